#include "router.h"

#include <stddef.h>
#include <string.h>

#include "result.h"

#define LOGS_PREFIX "/api/logs/"
#define JOBS_PREFIX "/enclave/aggregate_jobs/"

static const pa_route routes[] = {
    {PA_ROUTE_SUBMIT, "POST", "/enclave/submit_key", "POST, OPTIONS", 1, 1, PA_QUEUE_ENCLAVE},
    {PA_ROUTE_AGGREGATES, "POST", "/enclave/request_aggregates", "POST, OPTIONS", 1, 1,
     PA_QUEUE_ENCLAVE},
    {PA_ROUTE_REVOKE, "POST", "/enclave/revoke", "POST, OPTIONS", 1, 1, PA_QUEUE_DATABASE},
    {PA_ROUTE_LOGS, "GET", "/api/logs/{result_id}", "GET, OPTIONS", 0, 1, PA_QUEUE_DATABASE},
    /* without a nonce answered from memory on the HTTP thread (quote_cache.h) */
    {PA_ROUTE_QUOTE, "GET", "/attestation/quote", "GET, OPTIONS", 0, 1, PA_QUEUE_ATTEST},
    {PA_ROUTE_ROOT, "GET", "/attestation/root", "GET, OPTIONS", 0, 1, PA_QUEUE_ATTEST},
    {PA_ROUTE_HEALTH, "GET", "/health", "GET, OPTIONS", 0, 0, PA_QUEUE_INLINE},
    {PA_ROUTE_METRICS, "GET", "/metrics", "GET, OPTIONS", 0, 0, PA_QUEUE_DATABASE},
    {PA_ROUTE_OP_SESSIONS, "GET", "/operator/sessions", "GET, OPTIONS", 0, 1, PA_QUEUE_DATABASE},
    {PA_ROUTE_OP_AGGREGATES, "GET", "/operator/aggregates", "GET, OPTIONS", 0, 1,
     PA_QUEUE_DATABASE},
    {PA_ROUTE_OP_STATS, "GET", "/operator/stats", "GET, OPTIONS", 0, 1, PA_QUEUE_DATABASE},
    /* rate-limited like submit: each call costs an enclave key and attestation */
    {PA_ROUTE_KEYGEN, "POST", "/enclave/keygen", "POST, OPTIONS", 1, 1, PA_QUEUE_ENCLAVE},
    {PA_ROUTE_JOBS, "POST", "/enclave/aggregate_jobs", "POST, OPTIONS", 1, 1, PA_QUEUE_ENCLAVE},
    /* polled while a job runs, answered from memory on the poll thread: not
     * counted against RATE_LIMIT_MAX (docs/API.md) */
    {PA_ROUTE_JOB_STATUS, "GET", "/enclave/aggregate_jobs/{job_id}", "GET, OPTIONS", 0, 0,
     PA_QUEUE_INLINE},
};

/* The route of an id, or NULL. */
static const pa_route *route_of(pa_route_id id)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(routes); i++)
        if (routes[i].id == id)
            return &routes[i];
    return NULL;
}

pa_match pa_router_match(const char *path, const char *method, const pa_route **route,
                         const char **param)
{
    *route = NULL;
    *param = NULL;
    if (path == NULL || method == NULL)
        return PA_MATCH_NOT_FOUND;
    const pa_route *found = NULL;
    if (strncmp(path, LOGS_PREFIX, strlen(LOGS_PREFIX)) == 0) {
        const char *seg = path + strlen(LOGS_PREFIX);
        /* one non-empty segment; its format is checked by the handler (400) */
        if (*seg == '\0' || strchr(seg, '/') != NULL)
            return PA_MATCH_NOT_FOUND;
        found = &routes[3];
        *param = seg;
    } else if (strncmp(path, JOBS_PREFIX, strlen(JOBS_PREFIX)) == 0) {
        const char *seg = path + strlen(JOBS_PREFIX);
        if (*seg == '\0' || strchr(seg, '/') != NULL)
            return PA_MATCH_NOT_FOUND;
        found = route_of(PA_ROUTE_JOB_STATUS);
        *param = seg;
    } else {
        for (size_t i = 0; i < PA_ARRAY_LEN(routes); i++) {
            if (routes[i].id != PA_ROUTE_LOGS && routes[i].id != PA_ROUTE_JOB_STATUS &&
                strcmp(routes[i].tmpl, path) == 0) {
                found = &routes[i];
                break;
            }
        }
    }
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

const char *pa_router_template(pa_route_id id)
{
    if (id == PA_ROUTE_PAGE)
        return "/{page}";
    for (size_t i = 0; i < PA_ARRAY_LEN(routes); i++)
        if (routes[i].id == id)
            return routes[i].tmpl;
    return "unknown";
}
