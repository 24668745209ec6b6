/* The route table of the HTTP API (docs/API.md), in router.c: the one place
 * a route is described — its method and path, its flags, the workers that
 * run it and the two functions of its handler (handlers.h). Matching is
 * exact on the path MHD hands over (query string already split off); a
 * template ending in a `{name}` segment takes any one non-empty segment
 * there as the route's parameter. */
#ifndef PA_ROUTER_H
#define PA_ROUTER_H

struct MHD_Connection;

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
    PA_QUEUE_INLINE = 0, /* answered by prepare on the HTTP thread, no worker */
    PA_QUEUE_ENCLAVE,    /* waits on the enclave (and the database) */
    PA_QUEUE_DATABASE,   /* the database only */
    PA_QUEUE_ATTEST,     /* attestation documents: one enclave signature each */
    PA_QUEUE_COUNT
} pa_queue;

typedef struct pa_job pa_job; /* handlers.h */

/* A handler's two steps (handlers.h says what each may do). prepare returns
 * 0 to have run called on a worker of the route's queue, -1 when job->reply
 * is the answer already. */
typedef int (*pa_prepare_fn)(pa_job *job, struct MHD_Connection *conn);
typedef void (*pa_run_fn)(pa_job *job);

typedef struct {
    pa_route_id id;
    const char *method;   /* "GET" or "POST" */
    const char *tmpl;     /* the path template: what logs and metrics show */
    const char *allow;    /* the Allow header for 405 and plain OPTIONS */
    int has_body;         /* POST with a JSON body, parsed into job->body */
    int rate_limited;     /* counts against RATE_LIMIT_MAX */
    pa_queue queue;
    pa_prepare_fn prepare;
    pa_run_fn run;        /* NULL for PA_QUEUE_INLINE: prepare answers */
} pa_route;

typedef enum {
    PA_MATCH_OK,         /* route and method match */
    PA_MATCH_OPTIONS,    /* known path, OPTIONS method */
    PA_MATCH_BAD_METHOD, /* known path, other method: 405 with route->allow */
    PA_MATCH_NOT_FOUND,  /* unknown path: 404 (route is NULL) */
} pa_match;

/* *route is set for every result but NOT_FOUND; *param to the template's
 * {parameter} segment (a pointer into path) when it has one, else NULL. */
pa_match pa_router_match(const char *path, const char *method, const pa_route **route,
                         const char **param);

/* The table's entry for a route id, NULL for one not in the table. */
const pa_route *pa_router_route(pa_route_id id);

/* Template of a route id, "unknown" for PA_ROUTE_UNKNOWN. */
const char *pa_router_template(pa_route_id id);

#endif
