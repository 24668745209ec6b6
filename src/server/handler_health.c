/* GET /health: both dependencies are asked, every time. */
#include "enclave_answer.h"
#include "enclave_client.h"
#include "handlers.h"
#include "responses.h"

void pa_health_run(pa_job *job)
{
    int db_ok = pa_db_ping(job->app->db) == PA_DB_OK;
    int enclave_ok = 0;
    json_t *req = json_pack("{s:s}", "op", "info");
    json_t *answer = NULL;
    char code[PA_ENCLAVE_CODE_MAX];
    pa_info_answer info;
    if (req != NULL &&
        pa_enclave_call(job->app->cfg.enclave_socket, PA_OP_INFO, req, &answer, code) ==
            PA_ENCLAVE_OK)
        enclave_ok = pa_answer_info(answer, &info) == 0;
    json_decref(req);
    json_decref(answer);
    unsigned status;
    char *body = pa_body_health(db_ok, enclave_ok, &status);
    if (body == NULL)
        pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
    else
        pa_reply_json(&job->reply, status, body);
}
