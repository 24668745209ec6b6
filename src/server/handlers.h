/* What every route handler shares; which handler serves which route is the
 * route table's (router.c). A request goes through two steps of its route:
 *   prepare — on the HTTP poll thread, no blocking I/O: checks the request
 *             into the route's own request type (pa_job_req_new), and
 *             returns 0 to have run called on a worker of the route's queue,
 *             or -1 when job->reply is the answer already (a 4xx, or an
 *             answer from memory);
 *   run     — on a worker thread: the database and enclave calls, ending
 *             with job->reply filled (or job->abandoned set). */
#ifndef PA_HANDLERS_H
#define PA_HANDLERS_H

#include <jansson.h>
#include <stddef.h>

#include "app.h"
#include "db_reply.h"
#include "reply.h"
#include "result.h"
#include "router.h"

struct pa_job {
    pa_app *app;
    const pa_route *route;
    /* the request as HTTP delivered it, set by the HTTP layer */
    json_t *body;   /* has_body routes: the parsed JSON object */
    char param[64]; /* the template's {parameter}: the raw segment (truncated) */
    int client_fd;  /* the client's socket, for pa_job_client_gone (-1: none) */
    /* the route's own request (pa_job_req_new) */
    void *req;
    void (*req_clear)(void *req);
    /* output */
    pa_reply reply;
    int abandoned; /* run dropped its work because the client left: no reply */
};

/* A job for route with nothing set but app and route; NULL when out of
 * memory. */
pa_job *pa_job_new(pa_app *app, const pa_route *route);
/* Frees the job with its body, request and reply. */
void pa_job_free(pa_job *job);

/* The route's own request, made by its prepare: size zeroed bytes owned by
 * the job, clear (may be NULL) releasing what they point to when the job is
 * freed. NULL with a 500 reply when out of memory. */
void *pa_job_req_new(pa_job *job, size_t size, void (*clear)(void *req));

/* 1 when the job's client has closed its connection (or at least its
 * sending side, which counts as gone, as nginx counts it). Only on the
 * worker: the connection is suspended then, so nothing but this check
 * would notice. The HTTP layer asks before run (a queued request of a
 * client that left is never started); a run that can still drop its work
 * asks while it waits, and when the client is gone sets job->abandoned
 * instead of a reply. */
int pa_job_client_gone(const pa_job *job);

#endif
