#include "router.h"

#include <stddef.h>
#include <string.h>

#include "handler_aggregates.h"
#include "handler_attest.h"
#include "handler_health.h"
#include "handler_jobs.h"
#include "handler_keygen.h"
#include "handler_logs.h"
#include "handler_operator.h"
#include "handler_revoke.h"
#include "handler_submit.h"
#include "result.h"

#define POST(path) "POST", path, "POST, OPTIONS"
#define GET(path) "GET", path, "GET, OPTIONS"

/* Every route, and everything about it but the code of its handler. A
 * request whose client leaves before a worker takes it is never started,
 * on every queued route (http.c, run_job); only a handler can decide to
 * stop one that runs (handlers.h, pa_job_client_gone). */
static const pa_route routes[] = {
    /* id, method + path + Allow, has_body, rate_limited, queue, prepare, run */
    /* runs to its end once started, client or not (handler_submit.h says why) */
    {PA_ROUTE_SUBMIT, POST("/enclave/submit_key"), 1, 1, PA_QUEUE_ENCLAVE, pa_submit_prepare,
     pa_submit_run},
    /* cancelled in the enclave when its client leaves while it waits */
    {PA_ROUTE_AGGREGATES, POST("/enclave/request_aggregates"), 1, 1, PA_QUEUE_ENCLAVE,
     pa_aggregates_prepare, pa_aggregates_run},
    {PA_ROUTE_REVOKE, POST("/enclave/revoke"), 1, 1, PA_QUEUE_DATABASE, pa_revoke_prepare,
     pa_revoke_run},
    {PA_ROUTE_LOGS, GET("/api/logs/{result_id}"), 0, 1, PA_QUEUE_DATABASE, pa_logs_prepare,
     pa_logs_run},
    /* without a nonce answered by prepare from memory (quote_cache.h) */
    {PA_ROUTE_QUOTE, GET("/attestation/quote"), 0, 1, PA_QUEUE_ATTEST, pa_quote_prepare,
     pa_quote_run},
    {PA_ROUTE_ROOT, GET("/attestation/root"), 0, 1, PA_QUEUE_ATTEST, pa_root_prepare,
     pa_root_run},
    /* from the prober's cache: no worker, database or enclave per call */
    {PA_ROUTE_HEALTH, GET("/health"), 0, 0, PA_QUEUE_INLINE, pa_health_prepare, NULL},
    /* /metrics and /operator/...: the token is checked on a worker (a
     * database lookup); prepare keeps only its hash, the peer and the query */
    {PA_ROUTE_METRICS, GET("/metrics"), 0, 0, PA_QUEUE_DATABASE, pa_operator_prepare,
     pa_operator_metrics_run},
    {PA_ROUTE_OP_SESSIONS, GET("/operator/sessions"), 0, 1, PA_QUEUE_DATABASE,
     pa_operator_paged_prepare, pa_operator_sessions_run},
    {PA_ROUTE_OP_AGGREGATES, GET("/operator/aggregates"), 0, 1, PA_QUEUE_DATABASE,
     pa_operator_paged_prepare, pa_operator_aggregates_run},
    {PA_ROUTE_OP_STATS, GET("/operator/stats"), 0, 1, PA_QUEUE_DATABASE, pa_operator_prepare,
     pa_operator_stats_run},
    /* rate-limited like submit: each call costs an enclave key and attestation */
    {PA_ROUTE_KEYGEN, POST("/enclave/keygen"), 1, 1, PA_QUEUE_ENCLAVE, pa_keygen_prepare,
     pa_keygen_run},
    /* answers at once with the job, which outlives the request: never
     * cancelled because its client left (docs/API.md, "Aggregate jobs") */
    {PA_ROUTE_JOBS, POST("/enclave/aggregate_jobs"), 1, 1, PA_QUEUE_ENCLAVE,
     pa_aggregates_prepare, pa_aggregate_jobs_run},
    /* polled while a job runs, answered by prepare from memory: not counted
     * against RATE_LIMIT_MAX (docs/API.md) */
    {PA_ROUTE_JOB_STATUS, GET("/enclave/aggregate_jobs/{job_id}"), 0, 0, PA_QUEUE_INLINE,
     pa_job_status_prepare, NULL},
};

/* path against a template: the same text, or for a template ending in a
 * {parameter} segment the same prefix and one non-empty segment, which
 * *param is set to (its format is the handler's to check: a 400). */
static int matches(const char *tmpl, const char *path, const char **param)
{
    const char *brace = strchr(tmpl, '{');
    if (brace == NULL)
        return strcmp(tmpl, path) == 0;
    size_t n = (size_t)(brace - tmpl);
    if (strncmp(tmpl, path, n) != 0)
        return 0;
    const char *seg = path + n;
    if (*seg == '\0' || strchr(seg, '/') != NULL)
        return 0;
    *param = seg;
    return 1;
}

pa_match pa_router_match(const char *path, const char *method, const pa_route **route,
                         const char **param)
{
    *route = NULL;
    *param = NULL;
    if (path == NULL || method == NULL)
        return PA_MATCH_NOT_FOUND;
    const pa_route *found = NULL;
    for (size_t i = 0; i < PA_ARRAY_LEN(routes) && found == NULL; i++)
        if (matches(routes[i].tmpl, path, param))
            found = &routes[i];
    if (found == NULL)
        return PA_MATCH_NOT_FOUND;
    *route = found;
    if (strcmp(method, found->method) == 0)
        return PA_MATCH_OK;
    if (strcmp(method, "OPTIONS") == 0)
        return PA_MATCH_OPTIONS;
    *param = NULL;
    return PA_MATCH_BAD_METHOD;
}

const pa_route *pa_router_route(pa_route_id id)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(routes); i++)
        if (routes[i].id == id)
            return &routes[i];
    return NULL;
}

const char *pa_router_template(pa_route_id id)
{
    if (id == PA_ROUTE_PAGE)
        return "/{page}";
    const pa_route *r = pa_router_route(id);
    return r != NULL ? r->tmpl : "unknown";
}
