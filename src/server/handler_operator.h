/* The operator routes (/operator/sessions, /operator/aggregates,
 * /operator/stats) and /metrics: bearer-token access (operator_auth.h), every
 * request audited in ops_logs (operator_db.h). docs/OPERATIONS.md. */
#ifndef PA_HANDLER_OPERATOR_H
#define PA_HANDLER_OPERATOR_H

#include "handlers.h"

/* On the poll thread: the token's parts (never the token itself), the peer
 * and the query go along; everything is decided on the worker, after the
 * token check. The paged routes take ?limit= and ?offset=, the others no
 * query at all. */
PA_MUST_USE int pa_operator_prepare(pa_job *job, struct MHD_Connection *conn);
PA_MUST_USE int pa_operator_paged_prepare(pa_job *job, struct MHD_Connection *conn);

void pa_operator_metrics_run(pa_job *job);
void pa_operator_sessions_run(pa_job *job);
void pa_operator_aggregates_run(pa_job *job);
void pa_operator_stats_run(pa_job *job);

#endif
