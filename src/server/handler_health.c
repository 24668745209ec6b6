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
    /* The probe asks for a nonce-less attestation document rather than
     * `info`: one P-384 signature a second keeps GET /attestation/quote
     * answered from memory (quote_cache.h) with a document at most about a
     * second old, and a restarted enclave's new keys on display within a
     * round. */
    json_t *req = pa_ipc_request_attest(NULL);
    json_t *answer = NULL;
    pa_ipc_error code;
    pa_attest_answer at;
    int ok = req != NULL &&
             pa_enclave_call(a->cfg.enclave_socket, PA_IPC_OP_ATTEST, req, &answer, &code) ==
                 PA_ENCLAVE_OK &&
             pa_answer_attest(answer, &at) == 0;
    /* A failed round clears the cache: an old document would show keys an
     * enclave that is down or restarting no longer has. */
    pa_quote_cache_put(a->quotes, ok ? pa_body_quote(&at) : NULL);
    json_decref(req);
    json_decref(answer);
    return ok;
}

static void health_reply(pa_health *h, pa_reply *r)
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

int pa_health_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    health_reply(job->app->health, &job->reply);
    return -1;
}
