#include "handlers.h"

#include <poll.h>
#include <stdlib.h>

pa_job *pa_job_new(pa_app *app, const pa_route *route)
{
    pa_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    job->app = app;
    job->route = route;
    job->client_fd = -1;
    return job;
}

void pa_job_free(pa_job *job)
{
    if (job == NULL)
        return;
    json_decref(job->body);
    if (job->req != NULL && job->req_clear != NULL)
        job->req_clear(job->req);
    free(job->req);
    pa_reply_free(&job->reply);
    free(job);
}

void *pa_job_req_new(pa_job *job, size_t size, void (*clear)(void *req))
{
    job->req = calloc(1, size);
    if (job->req == NULL) {
        pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
        return NULL;
    }
    job->req_clear = clear;
    return job->req;
}

int pa_job_client_gone(const pa_job *job)
{
    if (job->client_fd < 0)
        return 0;
    /* Data alone (a pipelined next request) is no sign; the end of the
     * client's stream, a reset or an error is. */
    struct pollfd p = {.fd = job->client_fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}
