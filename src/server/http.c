#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handlers.h"
#include "http_headers.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "router.h"
#include "timeutil.h"
#include "validate.h"

/* The total is app->connection_limit (derived from the descriptor budget,
 * fdlimit.h). Per address it is low so that a few addresses holding idle or
 * trickling connections cannot take every slot; libmicrohttpd 0.9.75 has no
 * deadline for a whole request head, only this idle timeout, which every
 * byte resets: a proxy that enforces header timeouts belongs in front. */
#define PER_IP_CONNECTION_LIMIT 64
#define CONNECTION_TIMEOUT_S 30
/* Past the body cap the rest of an upload is read and dropped so the client
 * can see the 413; beyond this much more it is cut off instead. */
#define DISCARD_MAX (1u << 20)

/* X-Request-Id: the server's own, `<8 hex of this process>-<counter>`, or
 * one a trusted proxy sent (docs/OPERATIONS.md "Logs"). */
#define PA_REQUEST_ID_MAX 64

struct pa_http {
    pa_app *app;
    struct MHD_Daemon *daemon;
    atomic_int inflight; /* requests begun and not yet completed */
    atomic_int stopping; /* pa_http_stop has begun */
    char rid_prefix[9];  /* random per process: ids of two processes differ */
    atomic_ullong rid_next;
};

/* One HTTP request, from its first access-handler call to MHD's completion
 * notice. Touched by the poll thread, and by one worker while suspended. */
typedef struct {
    pa_http *h;
    struct MHD_Connection *conn;
    int64_t t0_us;
    const char *method; /* a static name, for logs */
    const pa_route *route;
    pa_route_id route_id;
    pa_match match;
    char param[64];
    pa_buf body;
    int too_large;
    size_t discarded;
    const char *allow_origin; /* the request's Origin header when it is allowed */
    int preflight;
    pa_ratelimit_verdict rl;
    int rl_applied;
    pa_job *job;
    pa_reply reply;
    int reply_ready;
    int answered;
    int abandoned;     /* the client left and its work was dropped: no answer */
    int close_after;   /* the stream cannot be trusted past this request */
    int nul_in_target; /* the raw target had %00 or a NUL byte (see target_seen) */
    int started;            /* on_request has seen it (else only target_seen has) */
    const char *target_end; /* where the raw target ends as a C string (target_seen) */
    const pa_static_file *page; /* a browser page's file (static_files.h), or NULL */
    char request_id[PA_REQUEST_ID_MAX + 1];
} pa_conn;

/* MHD_OPTION_URI_LOG_CALLBACK: the only place that sees the target before
 * libmicrohttpd decodes it in place into a C string, where %00 would end
 * the path (and a query value) early. A raw NUL byte does the same, and
 * earlier: uri is already a C string here, cut at that byte. So the
 * request's pa_conn starts here, holding where the target ends as a C
 * string; on_request compares that with where libmicrohttpd's parse ended it
 * (libmicrohttpd 0.9.75 writes the NUL over the space before the version,
 * and version points just after it, in the same request line). NULL when out
 * of memory: on_request then closes the connection. on_completed frees a
 * pa_conn on_request never saw: libmicrohttpd may drop a request between
 * this callback and the first access-handler call. */
static void *target_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    pa_conn *cx = calloc(1, sizeof *cx);
    if (cx != NULL && uri != NULL) {
        cx->nul_in_target = strstr(uri, "%00") != NULL;
        cx->target_end = uri + strlen(uri);
    }
    return cx;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void)
{
    return mono_us() / 1000;
}

/* Only well-known names reach the logs: the method is client-chosen text. */
static const char *method_name(const char *m)
{
    static const char *const known[] = {"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < PA_ARRAY_LEN(known); i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static const struct sockaddr *client_address(pa_conn *cx, struct sockaddr_storage *fwd);

/* The numeric address requests are counted by (client_address), for logs. */
static void client_text(pa_conn *cx, char out[INET6_ADDRSTRLEN])
{
    struct sockaddr_storage fwd;
    const struct sockaddr *sa = client_address(cx, &fwd);
    out[0] = '\0';
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, INET6_ADDRSTRLEN);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, INET6_ADDRSTRLEN);
}

/* An inbound X-Request-Id is kept only from a TRUSTED_PROXIES peer (nginx's
 * $request_id, so one id follows the request through both logs), and only
 * as 1..64 of [A-Za-z0-9._:-]: anything else could forge or break log
 * lines. Otherwise, and from anyone else, the server makes its own. */
static void request_id(pa_conn *cx)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(cx->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *in = MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (in != NULL && ci != NULL &&
        pa_proxies_contains(&cx->h->app->cfg.trusted_proxies, ci->client_addr)) {
        size_t n = strlen(in);
        int ok = n >= 1 && n <= PA_REQUEST_ID_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = (in[i] >= 'a' && in[i] <= 'z') || (in[i] >= 'A' && in[i] <= 'Z') ||
                 (in[i] >= '0' && in[i] <= '9') || strchr("._:-", in[i]) != NULL;
        if (ok) {
            memcpy(cx->request_id, in, n + 1);
            return;
        }
    }
    snprintf(cx->request_id, sizeof cx->request_id, "%s-%llx", cx->h->rid_prefix,
             (unsigned long long)atomic_fetch_add(&cx->h->rid_next, 1));
}

static void access_log(pa_conn *cx, unsigned status, const char *error, int aborted)
{
    char client[INET6_ADDRSTRLEN];
    client_text(cx, client);
    pa_log_access_line a = {
        .request_id = cx->request_id,
        .method = cx->method,
        .route = pa_router_template(cx->route_id),
        .status = status,
        .error = error,
        .duration_ms = (mono_us() - cx->t0_us) / 1000,
        .client = client,
        .aborted = aborted,
    };
    pa_log_access(&a);
}

static enum MHD_Result send_reply(pa_conn *cx)
{
    pa_reply *r = &cx->reply;
    if (r->status == 0)
        pa_reply_error(r, 500, "internal_error", "No answer was produced.");
    struct MHD_Response *resp;
    if (cx->page != NULL && r->status == 200) {
        /* the bundle lives as long as the server: no copy per request */
        resp = MHD_create_response_from_buffer(cx->page->len, cx->page->data,
                                               MHD_RESPMEM_PERSISTENT);
    } else if (r->body != NULL) {
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (resp != NULL)
            r->body = NULL; /* MHD frees it */
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (resp == NULL)
        return MHD_NO;
    pa_http_headers hh = {
        .allow_origin = cx->allow_origin,
        .vary_origin = cx->h->app->cfg.cors.n > 0,
        .preflight = cx->preflight,
        .rl = cx->rl_applied ? &cx->rl : NULL,
        .rl_window_s = (long)(cx->h->app->cfg.rate_limit_window_ms / 1000),
        .allow = r->allow,
        .retry_after_s = r->retry_after_s,
        .content_type = r->content_type,
        .www_authenticate = r->www_authenticate,
        .csp = cx->page != NULL && r->status < 400 ? cx->page->csp : NULL,
        .cache_control = cx->page != NULL ? "no-cache" : NULL,
        .etag = cx->page != NULL && r->status < 400 ? cx->page->etag : NULL,
        .request_id = cx->request_id,
    };
    if (cx->page != NULL && r->status < 400)
        hh.content_type = r->status == 200 ? cx->page->content_type : NULL;
    enum MHD_Result ret = MHD_NO;
    int headers_ok = pa_http_add_headers(resp, &hh) == 0;
    /* While stopping, a keep-alive client is told to go: its next request
     * would only be refused. */
    if (headers_ok && (cx->close_after || atomic_load(&cx->h->stopping)) &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
        headers_ok = 0;
    if (headers_ok)
        ret = MHD_queue_response(cx->conn, r->status, resp);
    MHD_destroy_response(resp);

    cx->answered = 1;
    pa_metrics_request(cx->route_id, r->status);
    pa_metrics_error_code(r->status, r->error_code);
    access_log(cx, r->status, r->error_code, 0);
    pa_reply_free(r);
    return ret;
}

/* The address a request is counted by: the TCP peer, or, when the peer is
 * one of TRUSTED_PROXIES, the client address it reports in X-Forwarded-For
 * (a proxy that reports none or garbage is counted as itself). */
static const struct sockaddr *client_address(pa_conn *cx, struct sockaddr_storage *fwd)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(cx->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL)
        return NULL;
    if (!pa_proxies_contains(&cx->h->app->cfg.trusted_proxies, ci->client_addr))
        return ci->client_addr;
    const char *xff = MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (xff != NULL && pa_proxy_client_addr(xff, fwd) == 0)
        return (const struct sockaddr *)fwd;
    return ci->client_addr;
}

static void rate_limit(pa_conn *cx)
{
    char key[PA_RATELIMIT_KEY_MAX] = "unknown";
    struct sockaddr_storage fwd;
    const struct sockaddr *sa = client_address(cx, &fwd);
    if (sa == NULL || pa_ratelimit_key(sa, key) != 0)
        snprintf(key, sizeof key, "%s", "unknown");
    pa_ratelimit_hit(cx->h->app->rl, key, pa_now_ms(), &cx->rl);
    cx->rl_applied = 1;
}

typedef struct {
    int content_length;
    int transfer_encoding;
    int bad_name;
    const char *te; /* the (only) Transfer-Encoding value */
} framing_scan;

/* RFC 9110 5.6.2: a field name is a token. libmicrohttpd 0.9.75 keeps a
 * name with whitespace before the colon as another name ("Content-Length "),
 * so `Content-Length : N` frames nothing there, while a proxy that trims the
 * name frames a body by it: the body would be read here as a next request. */
static int is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c != '\0' && strchr(extra, c) != NULL)))
            return 0;
    }
    return 1;
}

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    framing_scan *f = cls;
    if (!is_token(key))
        f->bad_name++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value;
    }
    return MHD_YES;
}

typedef enum {
    FRAMING_OK,
    FRAMING_AMBIGUOUS,   /* 400: two readings of where the request ends */
    FRAMING_UNSUPPORTED, /* 501: a transfer coding this server does not know */
} framing_verdict;

/* libmicrohttpd frames a body by the first Content-Length it sees and
 * ignores a second one; a proxy in front may pick the other, or prefer
 * Transfer-Encoding. Two readings of where a request ends are how requests
 * get smuggled past a proxy, so an ambiguous request is refused. A header
 * name that is not a token (`Content-Length : 5`) is refused for the same
 * reason. A Transfer-Encoding other than exactly "chunked" (identity, gzip,
 * "xchunked", a list) leaves libmicrohttpd waiting for a body it cannot
 * frame until the idle timeout: RFC 9112 6.1 answers it 501. */
static framing_verdict framing_check(struct MHD_Connection *conn)
{
    framing_scan f = {0, 0, 0, NULL};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_framing, &f);
    if (f.bad_name > 0 || f.content_length > 1 || f.transfer_encoding > 1 ||
        (f.content_length > 0 && f.transfer_encoding > 0))
        return FRAMING_AMBIGUOUS;
    if (f.transfer_encoding == 1 && (f.te == NULL || strcasecmp(f.te, "chunked") != 0))
        return FRAMING_UNSUPPORTED;
    return FRAMING_OK;
}

/* A browser page's file: GET (and HEAD) only, from memory, not rate limited (it costs
 * no more than /health). Pages are revalidated on every load (no-cache with
 * an ETag) so a new bundle is seen at once, while an unchanged one costs a
 * 304. */
static int page_reply(pa_conn *cx, const char *method)
{
    /* HEAD as GET: libmicrohttpd sends the headers without the body */
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        const char *inm = MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "If-None-Match");
        if (pa_static_etag_matches(inm, cx->page->etag))
            pa_reply_body(&cx->reply, 304, NULL, NULL);
        else
            pa_reply_body(&cx->reply, 200, NULL, NULL); /* send_reply serves cx->page */
    } else if (strcmp(method, "OPTIONS") == 0) {
        pa_reply_body(&cx->reply, 204, NULL, NULL);
        cx->reply.allow = "GET, HEAD, OPTIONS";
    } else {
        pa_reply_error(&cx->reply, 405, "method_not_allowed", "Only GET (or HEAD) serves a page.");
        cx->reply.allow = "GET, HEAD, OPTIONS";
    }
    return 1;
}

/* First call: everything decided from the request line and headers. Returns
 * 1 when cx->reply is the answer already, 0 to go on reading the body. */
static int begin(pa_conn *cx, const char *url, const char *method)
{
    const pa_config *cfg = &cx->h->app->cfg;
    const char *param = NULL;
    cx->match = pa_router_match(url, method, &cx->route, &param);
    cx->route_id = cx->route != NULL ? cx->route->id : PA_ROUTE_UNKNOWN;
    if (param != NULL)
        snprintf(cx->param, sizeof cx->param, "%s", param);

    const char *origin = MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "Origin");
    if (pa_cors_allowed(&cfg->cors, origin))
        cx->allow_origin = origin;

    /* Before anything else reads Content-Length (the 413 check, the body).
     * Where this request ends is unclear, so where the next one would start
     * is too: close the connection after the answer. */
    switch (framing_check(cx->conn)) {
    case FRAMING_AMBIGUOUS:
        cx->close_after = 1;
        pa_reply_error(&cx->reply, 400, "invalid_request",
                       "Header names must be tokens; a request may carry one Content-Length, "
                       "and not together with Transfer-Encoding.");
        return 1;
    case FRAMING_UNSUPPORTED:
        cx->close_after = 1;
        pa_reply_error(&cx->reply, 501, "unsupported_transfer_encoding",
                       "The only Transfer-Encoding supported is chunked.");
        return 1;
    default:
        break;
    }
    /* A decoded NUL would end the path early (/metrics%00x is /metrics to
     * every C string after it): the target is refused as a whole. */
    if (cx->nul_in_target) {
        pa_reply_error(&cx->reply, 400, "invalid_target",
                       "The request target must not contain a NUL byte.");
        return 1;
    }
    if (cx->match == PA_MATCH_NOT_FOUND &&
        (cx->page = pa_static_find(&cx->h->app->pages, url)) != NULL) {
        cx->route_id = PA_ROUTE_PAGE;
        return page_reply(cx, method);
    }

    /* OPTIONS is answered before the rate limiter: it costs nothing, and a
     * browser sends a preflight before most cross-origin POSTs. */
    if (strcmp(method, "OPTIONS") == 0) {
        if (cx->match == PA_MATCH_NOT_FOUND) {
            pa_reply_error(&cx->reply, 404, "not_found", "No such route.");
            return 1;
        }
        const char *acrm =
            MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
        switch (pa_cors_preflight(&cfg->cors, method, origin, acrm)) {
        case PA_PREFLIGHT_OK:
            cx->preflight = 1;
            pa_reply_body(&cx->reply, 204, NULL, NULL);
            break;
        case PA_PREFLIGHT_FORBIDDEN:
            pa_reply_error(&cx->reply, 403, "origin_not_allowed",
                           "This origin is not allowed to call the API.");
            break;
        default:
            pa_reply_body(&cx->reply, 204, NULL, NULL);
            cx->reply.allow = cx->route->allow;
            break;
        }
        return 1;
    }

    if (cx->route == NULL || cx->route->rate_limited) {
        rate_limit(cx);
        if (!cx->rl.allowed) {
            pa_metrics_rate_limited();
            pa_reply_error(&cx->reply, 429, "rate_limited",
                           "Too many requests from this address; retry after %ld seconds.",
                           cx->rl.reset_s);
            cx->reply.retry_after_s = cx->rl.reset_s;
            return 1;
        }
    }
    if (cx->match == PA_MATCH_NOT_FOUND) {
        pa_reply_error(&cx->reply, 404, "not_found", "No such route.");
        return 1;
    }
    if (cx->match == PA_MATCH_BAD_METHOD) {
        pa_reply_error(&cx->reply, 405, "method_not_allowed", "Method not allowed on %s.",
                       cx->route->tmpl);
        cx->reply.allow = cx->route->allow;
        return 1;
    }
    if (cx->route->has_body &&
        !pa_validate_content_type(
            MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "Content-Type"))) {
        pa_reply_error(&cx->reply, 415, "unsupported_media_type",
                       "The request body must be sent as Content-Type: application/json.");
        return 1;
    }
    if (pa_validate_declares_too_much(
            MHD_lookup_connection_value(cx->conn, MHD_HEADER_KIND, "Content-Length"),
            PA_BODY_MAX)) {
        pa_reply_error(&cx->reply, 413, "payload_too_large",
                       "The request body is larger than %zu bytes.", PA_BODY_MAX);
        return 1;
    }
    return 0;
}

/* A worker's job: the route's run, unless the client has left while the
 * request was queued (its work is then dropped unstarted), and the answer
 * handed back to the poll thread. */
static void run_job(void *arg)
{
    pa_conn *cx = arg;
    pa_job *job = cx->job;
    if (pa_job_client_gone(job)) {
        pa_metrics_abandoned(cx->route_id, 0);
        cx->abandoned = 1;
    } else {
        job->route->run(job);
        if (job->abandoned) {
            pa_metrics_abandoned(cx->route_id, 1);
            cx->abandoned = 1;
        }
        cx->reply = job->reply;
        memset(&job->reply, 0, sizeof job->reply);
    }
    pa_job_free(job);
    cx->job = NULL;
    cx->reply_ready = 1;
    /* last touch of cx from this thread: resuming hands it back to MHD, which
     * may answer and free it right away (the resume takes a mutex MHD also
     * takes, so the writes above are visible to the poll thread) */
    MHD_resume_connection(cx->conn);
}

/* The reply a job's prepare left, for the poll thread to send. */
static enum MHD_Result send_job_reply(pa_conn *cx, pa_job *job)
{
    cx->reply = job->reply;
    memset(&job->reply, 0, sizeof job->reply);
    pa_job_free(job);
    return send_reply(cx);
}

/* Last call (whole body read): the route's prepare, then either its answer
 * at once or the job handed to a worker and the connection suspended. */
static enum MHD_Result finish(pa_conn *cx)
{
    if (cx->too_large) {
        pa_reply_error(&cx->reply, 413, "payload_too_large", "The request body is larger than %zu bytes.",
                       PA_BODY_MAX);
        return send_reply(cx);
    }
    pa_job *job = pa_job_new(cx->h->app, cx->route);
    if (job == NULL) {
        pa_reply_error(&cx->reply, 500, "internal_error", "Out of memory.");
        return send_reply(cx);
    }
    memcpy(job->param, cx->param, sizeof job->param);
    pa_http_error err;
    if (cx->route->has_body &&
        (job->body = pa_validate_body((const char *)cx->body.data, cx->body.len, &err)) == NULL)
        pa_reply_from_error(&job->reply, &err);
    pa_buf_free(&cx->body); /* parsed: the raw bytes are not needed any more */
    if (job->reply.status != 0)
        return send_job_reply(cx, job);
    /* the route's prepare answers, or leaves work for its queue's workers */
    if (cx->route->prepare(job, cx->conn) != 0 || cx->route->run == NULL)
        return send_job_reply(cx, job);

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(cx->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    job->client_fd = ci != NULL ? ci->connect_fd : -1;
    /* Suspend before queueing: a fast worker may resume at once. */
    cx->job = job;
    MHD_suspend_connection(cx->conn);
    if (pa_workq_submit(cx->h->app->queues[cx->route->queue], run_job, cx) != 0) {
        cx->job = NULL;
        pa_job_free(job);
        pa_metrics_server_busy();
        if (atomic_load(&cx->h->stopping))
            pa_reply_error(&cx->reply, 503, "server_busy",
                           "The server is shutting down; try again shortly.");
        else
            pa_reply_error(&cx->reply, 503, "server_busy",
                           "The server is busy; try again shortly.");
        cx->reply_ready = 1;
        MHD_resume_connection(cx->conn);
    }
    return MHD_YES;
}

/* pa_workq_shutdown's cancel: a queued job that will not run now. Its
 * connection is suspended waiting for it; answer 503 and resume it, as a
 * worker would have. */
static void cancel_job(void *arg)
{
    pa_conn *cx = arg;
    pa_job_free(cx->job);
    cx->job = NULL;
    pa_metrics_server_busy();
    pa_reply_error(&cx->reply, 503, "server_busy",
                   "The server is shutting down; try again shortly.");
    cx->reply_ready = 1;
    MHD_resume_connection(cx->conn);
}

static int declares_body(struct MHD_Connection *conn)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    return (cl != NULL && strcmp(cl, "0") != 0) ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    pa_http *h = cls;
    pa_conn *cx = *con_cls;
    if (cx == NULL)
        return MHD_NO; /* target_seen had no memory */
    if (!cx->started) {
        cx->started = 1;
        /* A NUL byte in the raw target (target_seen): the request line
         * itself is malformed, so nothing after it is trusted either. */
        if (cx->target_end == NULL || version == NULL || version[0] == '\0' ||
            cx->target_end != version - 1) {
            cx->nul_in_target = 1;
            cx->close_after = 1;
        }
        cx->h = h;
        cx->conn = conn;
        cx->t0_us = mono_us();
        cx->method = method_name(method);
        request_id(cx);
        pa_buf_init(&cx->body, PA_BODY_MAX);
        atomic_fetch_add(&h->inflight, 1);
        if (!begin(cx, url, method))
            return MHD_YES;
        /* Answering before a body is read makes MHD close the connection;
         * without a body, wait for the final call and keep it alive. */
        if (declares_body(conn))
            return send_reply(cx);
        cx->reply_ready = 1;
        return MHD_YES;
    }
    if (cx->answered) { /* answered from the headers: drop whatever follows */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0 && cx->reply_ready) { /* not expected: no body was declared */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!cx->too_large && pa_buf_append(&cx->body, upload_data, *upload_data_size) != 0) {
            cx->too_large = 1;
            pa_buf_free(&cx->body);
        }
        if (cx->too_large) {
            cx->discarded += *upload_data_size;
            if (cx->discarded > DISCARD_MAX)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (cx->abandoned) /* nobody to answer: close (on_completed logs it aborted) */
        return MHD_NO;
    if (cx->reply_ready)
        return send_reply(cx);
    return finish(cx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    pa_http *h = cls;
    pa_conn *cx = *con_cls;
    if (cx == NULL || !cx->started) { /* only target_seen saw it */
        free(cx);
        *con_cls = NULL;
        return;
    }
    (void)toe;
    if (!cx->answered)
        access_log(cx, 0, NULL, 1);
    pa_buf_free(&cx->body);
    pa_reply_free(&cx->reply);
    pa_job_free(cx->job);
    free(cx);
    *con_cls = NULL;
    atomic_fetch_sub(&h->inflight, 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    pa_log_warn("libmicrohttpd: %s", line);
}

pa_http *pa_http_start(pa_app *app)
{
    const pa_config *cfg = &app->cfg;
    pa_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->app = app;
    atomic_init(&h->inflight, 0);
    atomic_init(&h->stopping, 0);
    atomic_init(&h->rid_next, 1);
    unsigned char rnd[4];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        goto fail;
    snprintf(h->rid_prefix, sizeof h->rid_prefix, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (cfg->listen_ipv6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)cfg->port);
        if (inet_pton(AF_INET6, cfg->listen_address, &a->sin6_addr) != 1)
            goto fail;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)cfg->port);
        if (inet_pton(AF_INET, cfg->listen_address, &a->sin_addr) != 1)
            goto fail;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned pool = ncpu < 2 ? 2 : ncpu > 4 ? 4 : (unsigned)ncpu;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->listen_ipv6) {
        /* "::" means every address, IPv4 included (as IPv4-mapped IPv6
         * peers, which the rate limiter counts as IPv4). Any other IPv6
         * address is that address only. */
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        flags |= IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    unsigned limit = app->connection_limit;
    if (limit == 0) {
        pa_log_error("no connection limit set");
        goto fail;
    }
    unsigned per_ip = limit < PER_IP_CONNECTION_LIMIT ? limit : PER_IP_CONNECTION_LIMIT;

    /* The logger first, so MHD reports problems with later options through
     * it. No MHD_OPTION_LISTENING_ADDRESS_REUSE: on Linux it means
     * SO_REUSEPORT, which would let a second server silently share the port
     * (MHD sets SO_REUSEADDR by itself, which is all a restart needs). */
    h->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_URI_LOG_CALLBACK, target_seen, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
    if (h->daemon == NULL) {
        pa_log_error("cannot listen on %s port %u (address in use or not available?)",
                     cfg->listen_address, cfg->port);
        goto fail;
    }
    int dual = (flags & MHD_USE_DUAL_STACK) == MHD_USE_DUAL_STACK;
    pa_log_info("listening on %s%s%s:%u%s with %u poll threads, at most %u connections (%u per "
                "address)",
                cfg->listen_ipv6 ? "[" : "", cfg->listen_address, cfg->listen_ipv6 ? "]" : "",
                cfg->port, dual ? " (IPv6 and IPv4)" : "", pool, limit, per_ip);
    return h;

fail:
    free(h);
    return NULL;
}

int pa_http_stop(pa_http *h, int grace_ms)
{
    if (h == NULL)
        return 0;
    int64_t end = mono_ms() + (grace_ms > 0 ? grace_ms : 0);
    atomic_store(&h->stopping, 1);

    /* Stop accepting. Quiescing only takes the socket out of the poll set:
     * clients would still connect (into the kernel's backlog) and wait for
     * an answer that never comes. shutdown() makes the kernel refuse them
     * (and reset those already in the backlog) while the descriptor stays
     * valid until the daemon is stopped. */
    MHD_socket fd = MHD_quiesce_daemon(h->daemon);
    if (fd == MHD_INVALID_SOCKET)
        pa_log_warn("stop: cannot quiesce the listening socket");
    else if (shutdown(fd, SHUT_RDWR) != 0)
        pa_log_warn("stop: cannot shut the listening socket down: %s", strerror(errno));

    /* Queued requests that have not started are answered 503 at once;
     * running ones get until the deadline. */
    for (int q = 0; q < PA_QUEUE_COUNT; q++) {
        int64_t left = end - mono_ms();
        if (h->app->queues[q] != NULL &&
            pa_workq_shutdown(h->app->queues[q], cancel_job, left > 0 ? left : 0) != 0) {
            /* Their connections are suspended, and MHD_stop_daemon with a
             * suspended connection aborts the process: leave the daemon be. */
            pa_log_error("stop: %zu request(s) still running after %d ms",
                         pa_workq_pending(h->app->queues[q]), grace_ms);
            return -1;
        }
    }
    /* Every job has resumed its connection: let the answers go out. */
    while (atomic_load(&h->inflight) > 0 && mono_ms() < end)
        usleep(10 * 1000);
    if (atomic_load(&h->inflight) > 0)
        pa_log_warn("stop: closing %d connection(s) with a request not yet answered",
                    atomic_load(&h->inflight));
    MHD_stop_daemon(h->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(h);
    return 0;
}
