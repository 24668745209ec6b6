/* The route table of the HTTP API (docs/API.md). Matching is exact on the
 * path MHD hands over (query string already split off); the only path
 * parameter is the result id of /api/logs/{result_id}. */
#ifndef PA_ROUTER_H
#define PA_ROUTER_H

typedef enum {
    PA_ROUTE_UNKNOWN = 0,
    PA_ROUTE_SUBMIT,
    PA_ROUTE_AGGREGATES,
    PA_ROUTE_REVOKE,
    PA_ROUTE_LOGS,
    PA_ROUTE_QUOTE,
    PA_ROUTE_ROOT,
    PA_ROUTE_HEALTH,
    PA_ROUTE_METRICS,
    PA_ROUTE_OP_SESSIONS, /* operator routes: bearer token (handler_operator.c) */
    PA_ROUTE_OP_AGGREGATES,
    PA_ROUTE_OP_STATS,
    PA_ROUTE_KEYGEN,
    PA_ROUTE_PAGE, /* the browser pages' static files (static_files.h), not in the table */
    PA_ROUTE_JOBS,       /* POST /enclave/aggregate_jobs */
    PA_ROUTE_JOB_STATUS, /* GET /enclave/aggregate_jobs/{job_id} */
    PA_ROUTE_COUNT
} pa_route_id;

/* Which workers run a route's work. Each queue has its own threads, so a
 * route can only ever wait behind work of its own kind: 16 slow aggregates
 * leave revoke and the logs untouched, a flood of nonce quotes leaves
 * everything else untouched. */
typedef enum {
    PA_QUEUE_INLINE = 0, /* answered on the HTTP thread, no worker (/health) */
    PA_QUEUE_ENCLAVE,    /* waits on the enclave (and the database) */
    PA_QUEUE_DATABASE,   /* the database only */
    PA_QUEUE_ATTEST,     /* attestation documents: one enclave signature each */
    PA_QUEUE_COUNT
} pa_queue;

typedef struct {
    pa_route_id id;
    const char *method;   /* "GET" or "POST" */
    const char *tmpl;     /* the path template: what logs and metrics show */
    const char *allow;    /* the Allow header for 405 and plain OPTIONS */
    int has_body;         /* POST with a JSON body */
    int rate_limited;     /* counts against RATE_LIMIT_MAX */
    pa_queue queue;
} pa_route;

typedef enum {
    PA_MATCH_OK,         /* route and method match */
    PA_MATCH_OPTIONS,    /* known path, OPTIONS method */
    PA_MATCH_BAD_METHOD, /* known path, other method: 405 with route->allow */
    PA_MATCH_NOT_FOUND,  /* unknown path: 404 (route is NULL) */
} pa_match;

/* *route is set for every result but NOT_FOUND; *param to the {result_id}
 * segment (a pointer into path) for PA_ROUTE_LOGS, the {job_id} one for
 * PA_ROUTE_JOB_STATUS, else NULL. */
pa_match pa_router_match(const char *path, const char *method, const pa_route **route,
                         const char **param);

/* Template of a route id, "unknown" for PA_ROUTE_UNKNOWN. */
const char *pa_router_template(pa_route_id id);

#endif
