#include "handlers.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"

int pa_handler_prepare(pa_job *job)
{
    switch (job->route) {
    case PA_ROUTE_SUBMIT:
        return pa_submit_prepare(job);
    case PA_ROUTE_AGGREGATES:
        return pa_aggregates_prepare(job);
    case PA_ROUTE_REVOKE:
        return pa_revoke_prepare(job);
    case PA_ROUTE_LOGS:
        return pa_logs_prepare(job);
    case PA_ROUTE_QUOTE:
        return pa_quote_prepare(job);
    case PA_ROUTE_KEYGEN:
        return pa_keygen_prepare(job);
    case PA_ROUTE_JOBS:
        return pa_aggregates_prepare(job); /* the same body as request_aggregates */
    case PA_ROUTE_JOB_STATUS:
        return pa_job_status_prepare(job);
    case PA_ROUTE_ROOT:
    case PA_ROUTE_METRICS:
    case PA_ROUTE_OP_SESSIONS:
    case PA_ROUTE_OP_AGGREGATES:
    case PA_ROUTE_OP_STATS:
        return 0; /* operator routes: everything is decided after the token check */
    default:
        pa_reply_error(&job->reply, 404, "not_found", "No such route.");
        return -1;
    }
}

void pa_handler_run(pa_job *job)
{
    switch (job->route) {
    case PA_ROUTE_SUBMIT:
        pa_submit_run(job);
        break;
    case PA_ROUTE_AGGREGATES:
        pa_aggregates_run(job);
        break;
    case PA_ROUTE_REVOKE:
        pa_revoke_run(job);
        break;
    case PA_ROUTE_LOGS:
        pa_logs_run(job);
        break;
    case PA_ROUTE_QUOTE:
        pa_quote_run(job);
        break;
    case PA_ROUTE_ROOT:
        pa_root_run(job);
        break;
    case PA_ROUTE_KEYGEN:
        pa_keygen_run(job);
        break;
    case PA_ROUTE_JOBS:
        pa_aggregate_jobs_run(job);
        break;
    case PA_ROUTE_METRICS:
    case PA_ROUTE_OP_SESSIONS:
    case PA_ROUTE_OP_AGGREGATES:
    case PA_ROUTE_OP_STATS:
        pa_operator_run(job);
        break;
    default:
        pa_reply_error(&job->reply, 404, "not_found", "No such route.");
        break;
    }
}

void pa_job_free(pa_job *job)
{
    if (job == NULL)
        return;
    json_decref(job->body);
    free(job->query_nonce);
    free(job->nonce);
    free(job->metadata_jcs);
    if (job->has_env)
        pa_envelope_free(&job->env);
    pa_opauth_clear(&job->op.auth);
    pa_reply_free(&job->reply);
    free(job);
}

void pa_reply_db_unavailable(pa_reply *r)
{
    pa_metrics_db_error();
    pa_reply_error(r, 503, "database_unavailable", "The database is not reachable; try again later.");
}
