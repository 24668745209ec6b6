/* The route handlers. Each route has two steps:
 *   prepare — on the HTTP poll thread: validates the request (no I/O), and
 *             either fills job->reply with a 4xx (return -1) or leaves the
 *             job ready to run;
 *   run     — on a worker thread: the database and enclave calls, ending
 *             with job->reply filled.
 * /health has no run step (answered from its cache by the HTTP layer:
 * handler_health.h). /metrics and /operator/... run on a worker because their
 * bearer token is checked against the database (handler_operator.h). */
#ifndef PA_HANDLERS_H
#define PA_HANDLERS_H

#include <jansson.h>
#include <stdint.h>

#include "app.h"
#include "envelope_format.h"
#include "handler_operator.h"
#include "reply.h"
#include "router.h"
#include "uuid.h"
#include "validate.h"

typedef struct {
    pa_app *app;
    pa_route_id route;
    /* inputs, set by the HTTP layer */
    json_t *body;       /* POST routes: the parsed JSON object */
    char param[64];     /* /api/logs/{result_id}: the raw segment (truncated) */
    char *query_nonce;  /* /attestation/quote: the raw ?nonce= value, or NULL */
    /* validated request, set by prepare */
    char id[PA_UUID_STR_LEN]; /* session id or result id */
    pa_envelope env;
    int has_env;
    char *metadata_jcs;
    int64_t expires_at_ms;
    pa_aggregates_request agg;
    char *nonce;
    pa_operator_req op; /* /metrics and /operator/...: set by pa_operator_capture */
    /* output */
    pa_reply reply;
} pa_job;

/* -1 when job->reply already holds the (error) answer. */
PA_MUST_USE int pa_handler_prepare(pa_job *job);
void pa_handler_run(pa_job *job);
void pa_job_free(pa_job *job);

/* per route (handler_*.c) */
PA_MUST_USE int pa_submit_prepare(pa_job *job);
void pa_submit_run(pa_job *job);
PA_MUST_USE int pa_aggregates_prepare(pa_job *job);
void pa_aggregates_run(pa_job *job);
void pa_aggregate_jobs_run(pa_job *job);
/* GET /enclave/aggregate_jobs/{job_id} is answered by prepare itself (from
 * memory, on the poll thread): it always returns -1 with the reply. */
PA_MUST_USE int pa_job_status_prepare(pa_job *job);
PA_MUST_USE int pa_revoke_prepare(pa_job *job);
void pa_revoke_run(pa_job *job);
PA_MUST_USE int pa_logs_prepare(pa_job *job);
void pa_logs_run(pa_job *job);
PA_MUST_USE int pa_quote_prepare(pa_job *job);
void pa_quote_run(pa_job *job);
void pa_root_run(pa_job *job);
/* POST /enclave/keygen (handler_keygen.c), and the enclave-made key's part
 * in submit (the sealed key joins the open request; -1 with the reply
 * filled when the key cannot serve) and in request_aggregates. */
PA_MUST_USE int pa_keygen_prepare(pa_job *job);
void pa_keygen_run(pa_job *job);
PA_MUST_USE int pa_keygen_submit_attach(pa_job *job, json_t *open_request);
PA_MUST_USE int pa_keygen_aggregate_attach(pa_job *job, const char *metadata_jcs,
                                           json_t *request);
/* /metrics and /operator/... (handler_operator.c): capture runs on the poll
 * thread (headers, peer, query), run on a worker. */
void pa_operator_capture(pa_job *job, struct MHD_Connection *conn);
void pa_operator_run(pa_job *job);

/* Shared by the handlers: the reply for a database failure status. */
void pa_reply_db_unavailable(pa_reply *r);

#endif
