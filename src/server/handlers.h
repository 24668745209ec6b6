/* The route handlers. Each route has two steps:
 *   prepare — on the HTTP poll thread: validates the request (no I/O), and
 *             either fills job->reply with a 4xx (return -1) or leaves the
 *             job ready to run;
 *   run     — on a worker thread: the database and enclave calls, ending
 *             with job->reply filled.
 * Routes without a run step (/metrics, and /health from its cache:
 * handler_health.h) are answered by the HTTP layer itself and never reach a
 * worker. */
#ifndef PA_HANDLERS_H
#define PA_HANDLERS_H

#include <jansson.h>
#include <stdint.h>

#include "app.h"
#include "envelope_format.h"
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
PA_MUST_USE int pa_revoke_prepare(pa_job *job);
void pa_revoke_run(pa_job *job);
PA_MUST_USE int pa_logs_prepare(pa_job *job);
void pa_logs_run(pa_job *job);
PA_MUST_USE int pa_quote_prepare(pa_job *job);
void pa_quote_run(pa_job *job);
void pa_root_run(pa_job *job);

/* Shared by the handlers: the reply for a database failure status. */
void pa_reply_db_unavailable(pa_reply *r);

#endif
