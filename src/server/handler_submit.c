/* POST /enclave/submit_key: shape and policy checks here, then the enclave
 * must open the envelope before anything is stored. */
#include "handler_submit.h"

#include <stdlib.h>
#include <string.h>

#include "db_reply.h"
#include "enclave_answer.h"
#include "enclave_client.h"
#include "envelope_format.h"
#include "jcs.h"
#include "json_strict.h"
#include "keygen_attach.h"
#include "log.h"
#include "metrics.h"
#include "responses.h"
#include "timeutil.h"
#include "validate.h"

typedef struct {
    pa_envelope env;
    int has_env;
    char *metadata_jcs;
    int64_t expires_at_ms;
} submit_req;

static void submit_req_clear(void *p)
{
    submit_req *req = p;
    if (req->has_env)
        pa_envelope_free(&req->env);
    free(req->metadata_jcs);
}

int pa_submit_prepare(pa_job *job, struct MHD_Connection *conn)
{
    (void)conn;
    submit_req *req = pa_job_req_new(job, sizeof *req, submit_req_clear);
    if (req == NULL)
        return -1;
    const char *why = NULL;
    if (pa_envelope_parse(job->body, &req->env, &why) != 0) {
        pa_reply_error(&job->reply, 400, "invalid_envelope", "The envelope is malformed: %s.",
                       why != NULL ? why : "bad shape");
        return -1;
    }
    req->has_env = 1;
    pa_http_error err;
    if (pa_validate_submit_policy(req->env.metadata, pa_now_ms(), job->app->cfg.max_ttl_s,
                                  &req->expires_at_ms, &err) != 0) {
        pa_reply_from_error(&job->reply, &err);
        return -1;
    }
    /* the AAD the envelope was sealed with, and what the database keeps */
    req->metadata_jcs = pa_jcs_dumps(req->env.metadata);
    if (req->metadata_jcs == NULL) {
        pa_reply_error(&job->reply, 400, "invalid_envelope",
                       "The envelope is malformed: metadata cannot be canonicalised.");
        return -1;
    }
    return 0;
}

#define ANSWER_REPLAYED                                                                            \
    {PA_DB_CONFLICT, 409, "envelope_replayed",                                                     \
     "This envelope was already submitted; seal the credentials again."}

/* The enclave could not open the envelope. A replay is still 409, also when
 * opening fails first (the enclave restarted, or not_after passed): only on
 * this path is "was it used?" a question of its own; on the path that stores,
 * the insert's unique constraint answers it in the same round trip. */
static void refused_or_replayed(pa_job *job)
{
    static const pa_db_answer answers[] = {ANSWER_REPLAYED, PA_DB_ANSWERS_END};
    pa_db_status st = pa_db_envelope_seen(job->app->db, pa_json_str(job->body, "ephemeral_pub"));
    if (st == PA_DB_OK)
        return; /* the enclave's refusal stands */
    pa_reply_free(&job->reply);
    if (pa_reply_db(&job->reply, st, answers, "The envelope could not be checked.") != 0)
        return; /* the reply now says why: replayed, or the database failed */
}

void pa_submit_run(pa_job *job)
{
    const submit_req *req = job->req;
    json_t *answer = NULL;

    /* the envelope exactly as sent: parse checked it has only the five keys */
    json_t *open_request = pa_ipc_request_open(job->body);
    /* an enclave-made key: checked and its sealed half sent along */
    if (open_request != NULL && pa_keygen_submit_attach(job->app->db, req->env.metadata,
                                                        open_request, &job->reply) != 0) {
        json_decref(open_request);
        goto cleanup;
    }
    answer = pa_enclave_call_reply(job->app->cfg.enclave_socket, PA_IPC_OP_OPEN, open_request,
                                   &job->reply);
    if (answer == NULL) {
        refused_or_replayed(job);
        goto cleanup;
    }
    pa_open_answer opened;
    if (pa_answer_open(answer, &opened) != 0) {
        pa_log_error("submit_key: the enclave's open answer has the wrong shape");
        pa_reply_error(&job->reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }

    char session_id[PA_UUID_STR_LEN];
    if (pa_uuid_v4(session_id) != 0) {
        pa_reply_error(&job->reply, 500, "internal_error", "No randomness available.");
        goto cleanup;
    }
    const json_t *meta = req->env.metadata;
    pa_db_new_session s = {
        .session_id = session_id,
        .exchange = pa_json_str(meta, "exchange"),
        .label = pa_json_str(meta, "label"),
        .expires_at_ms = req->expires_at_ms,
        .ephemeral_pub = pa_json_str(job->body, "ephemeral_pub"),
        .nonce = pa_json_str(job->body, "nonce"),
        .ciphertext = pa_json_str(job->body, "ciphertext"),
        .tag = pa_json_str(job->body, "tag"),
        .metadata_jcs = req->metadata_jcs,
        .enclave_pubkey = opened.enclave_pubkey,
        .enclave_key_id = pa_json_str(meta, "enclave_key_id"),
    };
    /* group commit: one transaction for this and the submits beside it */
    static const pa_db_answer answers[] = {
        ANSWER_REPLAYED,
        /* claimed (or expired) since keygen_attach's check */
        {PA_DB_KEY_USED, 409, "enclave_key_used",
         "This enclave-made key already serves a session, or has expired; make a new one."},
        PA_DB_ANSWERS_END,
    };
    /* group commit: one transaction for this and the submits beside it */
    if (pa_reply_db(&job->reply, pa_submit_batch_create(job->app->submits, &s), answers,
                    "The session could not be stored.") == 0) {
        pa_metrics_session_created();
        pa_reply_ok(&job->reply, pa_body_submit(session_id, req->expires_at_ms));
    }

cleanup:
    json_decref(answer);
}
