/* Storing a signed aggregate (aggregate_store.h). */
#include "aggregate_store.h"

#include <string.h>

#include "db_reply.h"
#include "enclave_answer.h"
#include "log.h"
#include "responses.h"

static const pa_db_answer session_answers[] = {PA_DB_ANSWER_SESSION_NOT_FOUND, PA_DB_ANSWERS_END};

void pa_aggregate_limit_reply(pa_reply *reply, long max_results)
{
    pa_reply_error(reply, 429, "result_limit_reached",
                   "This session holds the most results allowed (%ld); revoke it and submit "
                   "the credentials again for more.",
                   max_results);
}

/* The result was refused because the session stopped being active while
 * the enclave worked: say which way, as check_session would have. A session
 * never comes back to life, so reading it again tells revoked from expired
 * (an expiry the sweeper has not recorded yet shows as an active row past
 * expires_at). */
static void gone_reply(pa_db *db, const char *session_id, pa_reply *reply)
{
    pa_db_session s;
    /* when it cannot be read now, a retry tells revoked from expired */
    if (pa_reply_db(reply, pa_db_session_get(db, session_id, &s), session_answers,
                    "The session could not be read.") != 0) {
    } else if (strcmp(s.status, "revoked") == 0) {
        pa_reply_error(reply, 410, "session_revoked",
                       "The session was revoked while the aggregates were computed.");
    } else {
        pa_reply_error(reply, 410, "session_expired",
                       "The session expired while the aggregates were computed.");
    }
    pa_db_session_free(&s);
}

void pa_aggregate_store(pa_db *db, long max_results, const char *session_id,
                        const json_t *result, pa_reply *reply)
{
    pa_aggregate_answer res;
    memset(&res, 0, sizeof res);
    if (pa_answer_aggregate(result, &res) != 0) {
        pa_log_error("request_aggregates: the enclave's aggregate answer has the wrong shape");
        pa_reply_error(reply, 500, "internal_error", "The enclave gave an unexpected answer.");
        goto cleanup;
    }
    pa_db_result r = {
        .result_id = res.result_id,
        .session_id = session_id,
        .payload_jcs = res.payload_jcs,
        .signature = res.signature,
        .merkle_root = res.merkle_root,
        .attestation = res.attestation_json,
        .entries = res.entries,
        .leaf_hashes = res.leaf_hashes,
        .nentries = res.n,
        .max_results = max_results,
    };
    pa_db_status st = pa_db_result_store(db, &r);
    if (st == PA_DB_GONE) /* revoked or expired while the enclave was working: serve nothing */
        gone_reply(db, session_id, reply);
    else if (st == PA_DB_LIMIT)
        pa_aggregate_limit_reply(reply, max_results);
    else if (pa_reply_db(reply, st, session_answers, "The result could not be stored.") == 0)
        pa_reply_ok(reply, pa_body_aggregates(&res));
cleanup:
    pa_aggregate_answer_free(&res);
}
