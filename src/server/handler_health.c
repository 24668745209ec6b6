/* GET /health: the probes the background prober runs (health.h), and the
 * answer built from its cache on the HTTP poll thread. */
#include "handler_health.h"

#include "enclave_answer.h"
#include "enclave_client.h"
#include "responses.h"

int pa_health_probe_database(void *app)
{
    const pa_app *a = app;
    return pa_db_ping(a->db) == PA_DB_OK;
}

int pa_health_probe_enclave(void *app)
{
    const pa_app *a = app;
    json_t *req = pa_ipc_request_info();
    json_t *answer = NULL;
    pa_ipc_error code;
    pa_info_answer info;
    int ok = req != NULL &&
             pa_enclave_call(a->cfg.enclave_socket, PA_IPC_OP_INFO, req, &answer, &code) ==
                 PA_ENCLAVE_OK &&
             pa_answer_info(answer, &info) == 0;
    json_decref(req);
    json_decref(answer);
    return ok;
}

void pa_health_reply(pa_health *h, pa_reply *r)
{
    int db_ok, enclave_ok;
    pa_health_get(h, &db_ok, &enclave_ok);
    unsigned status;
    char *body = pa_body_health(db_ok, enclave_ok, &status);
    if (body == NULL)
        pa_reply_error(r, 500, "internal_error", "Out of memory.");
    else
        pa_reply_json(r, status, body);
}
