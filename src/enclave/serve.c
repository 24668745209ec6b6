#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "thread_stack.h"

#define DEFAULT_MAX_BUFFERED ((size_t)64 << 20)
#define MAX_CONNECTIONS_CEILING 4096u
/* Descriptors kept for everything but connections: stdio, the listening
 * socket, epoll, eventfd, and the workers' exchange connections. */
#define FD_RESERVE 64u
#define TICK_MS 200
#define READ_CHUNK 65536u

enum conn_state { C_READ, C_BUSY, C_WRITE };

/* epoll data of the two descriptors that are not connections */
static const int listen_tag, event_tag;

typedef struct conn {
    int fd;
    enum conn_state state;
    uint8_t hdr[4];
    size_t hdr_got;
    size_t want;  /* body length once the header is complete */
    int counted;  /* want is counted in srv->buffered */
    pa_buf in;    /* the body so far */
    char *resp;   /* worker's answer */
    uint8_t *out; /* framed answer being written */
    size_t out_len, out_off;
    int64_t last_ms;          /* last progress (epoll thread) */
    struct conn *prev, *next; /* every connection */
    struct conn *qnext;       /* job or done queue */
} conn;

typedef struct {
    const pa_serve_config *cfg;
    int ep, evfd;
    unsigned nconns, max_conns;
    size_t buffered, max_buffered;
    conn *all;
    pthread_mutex_t lock;
    pthread_cond_t work;
    conn *jobs, *jobs_tail; /* under lock */
    conn *done;             /* under lock */
    int quit;               /* under lock */
    unsigned busy;          /* connections with a worker (epoll thread) */
} server;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(server *s, conn *c)
{
    if (c->counted)
        s->buffered -= c->want;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    pa_buf_free(&c->in); /* a request may hold an envelope: wiped */
    free(c->resp);
    free(c->out);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->all = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    s->nconns--;
    free(c);
}

static int watch(server *s, conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void reset_frame(server *s, conn *c)
{
    if (c->counted)
        s->buffered -= c->want;
    c->counted = 0;
    c->hdr_got = 0;
    c->want = 0;
    pa_buf_free(&c->in);
    pa_buf_init(&c->in, PA_IPC_MAX_FRAME);
}

/* A connection that holds nothing: the first to go at the cap. */
static int conn_idle(const conn *c)
{
    return c->state == C_READ && c->hdr_got == 0;
}

/* At the cap: close the longest-idle connection, else the oldest partial
 * one; never one a worker holds. 0 when room was made. */
static int make_room(server *s)
{
    conn *victim = NULL;
    for (conn *c = s->all; c != NULL; c = c->next) {
        if (c->state == C_BUSY)
            continue;
        if (victim == NULL || (conn_idle(c) && !conn_idle(victim)) ||
            (conn_idle(c) == conn_idle(victim) && c->last_ms < victim->last_ms))
            victim = c;
    }
    if (victim == NULL)
        return -1;
    conn_close(s, victim);
    return 0;
}

static void accept_all(server *s)
{
    for (;;) {
        int fd = accept4(s->cfg->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                pa_log_warn("accept: %s", strerror(errno));
            return;
        }
        if (s->nconns >= s->max_conns && make_room(s) != 0) {
            close(fd); /* every connection has a request in progress */
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (c == NULL || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->state = C_READ;
        pa_buf_init(&c->in, PA_IPC_MAX_FRAME);
        c->last_ms = mono_ms();
        c->next = s->all;
        /* conn_close (in make_room) unlinks a connection from s->all before
         * freeing it; the analyzer does not follow the list. */
        if (s->all != NULL)
            s->all->prev = c; /* NOLINT(clang-analyzer-unix.Malloc) */
        s->all = c;
        s->nconns++;
    }
}

static void submit(server *s, conn *c)
{
    c->state = C_BUSY;
    s->busy++;
    /* Out of epoll while a worker holds it: a hang-up would otherwise be
     * reported (level-triggered) on every wait until the answer is ready. */
    (void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    pthread_mutex_lock(&s->lock);
    c->qnext = NULL;
    if (s->jobs_tail != NULL)
        s->jobs_tail->qnext = c;
    else
        s->jobs = c;
    s->jobs_tail = c;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
}

/* Reads what is there, exactly up to the end of the current frame. Returns
 * -1 when the connection must be closed. */
static int on_readable(server *s, conn *c)
{
    uint8_t chunk[READ_CHUNK];
    for (;;) {
        size_t need = c->hdr_got < 4 ? 4 - c->hdr_got : c->want - c->in.len;
        if (c->hdr_got == 4 && need == 0) {
            PA_GUARD(pa_buf_append(&c->in, "", 0)); /* an empty frame is "" */
            submit(s, c);
            return 0;
        }
        uint8_t *dst = c->hdr_got < 4 ? c->hdr + c->hdr_got : chunk;
        ssize_t r = recv(c->fd, dst, need < sizeof chunk ? need : sizeof chunk, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (r <= 0)
            return -1; /* closed (mid-frame or not) or failed */
        c->last_ms = mono_ms();
        if (c->hdr_got < 4) {
            c->hdr_got += (size_t)r;
            if (c->hdr_got == 4) {
                c->want = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 |
                          (size_t)c->hdr[2] << 8 | c->hdr[3];
                PA_ENSURE(c->want <= PA_IPC_MAX_FRAME);
                if (s->buffered + c->want > s->max_buffered) {
                    pa_log_warn("closing a connection: %zu bytes of requests already buffered",
                                s->buffered);
                    return -1;
                }
                s->buffered += c->want;
                c->counted = 1;
            }
        } else {
            PA_GUARD(pa_buf_append(&c->in, chunk, (size_t)r));
            OPENSSL_cleanse(chunk, (size_t)r);
        }
    }
}

/* Writes what the socket takes. 1 when the whole answer is out. */
static int on_writable(server *s, conn *c)
{
    (void)s;
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0)
            return -1;
        c->out_off += (size_t)w;
        c->last_ms = mono_ms();
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    return 1;
}

static void finish_write(server *s, conn *c)
{
    int r = on_writable(s, c);
    if (r == 1)
        c->state = C_READ; /* all out: read the next request */
    uint32_t events = r == 1 ? EPOLLIN | EPOLLRDHUP : EPOLLOUT | EPOLLRDHUP;
    if (r < 0 || watch(s, c, events) != 0)
        conn_close(s, c);
}

/* Answers the workers finished: frame them and start writing. */
static void collect_done(server *s)
{
    uint64_t n;
    while (read(s->evfd, &n, sizeof n) > 0) {
    }
    pthread_mutex_lock(&s->lock);
    conn *list = s->done;
    s->done = NULL;
    pthread_mutex_unlock(&s->lock);
    while (list != NULL) {
        conn *c = list;
        list = c->qnext;
        s->busy--;
        reset_frame(s, c);
        c->last_ms = mono_ms();
        char *resp = c->resp;
        c->resp = NULL;
        size_t len = resp != NULL ? strlen(resp) : 0;
        if (resp == NULL || len > PA_IPC_MAX_FRAME || (c->out = malloc(len + 4)) == NULL) {
            free(resp);
            conn_close(s, c);
            continue;
        }
        c->out[0] = (uint8_t)(len >> 24);
        c->out[1] = (uint8_t)(len >> 16);
        c->out[2] = (uint8_t)(len >> 8);
        c->out[3] = (uint8_t)len;
        memcpy(c->out + 4, resp, len);
        free(resp);
        c->out_len = len + 4;
        c->out_off = 0;
        c->state = C_WRITE;
        struct epoll_event ev = {.events = 0, .data.ptr = c};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            conn_close(s, c);
            continue;
        }
        finish_write(s, c);
    }
}

static void *worker_main(void *arg)
{
    server *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->jobs == NULL && !s->quit)
            pthread_cond_wait(&s->work, &s->lock);
        if (s->jobs == NULL)
            break;
        conn *c = s->jobs;
        s->jobs = c->qnext;
        if (s->jobs == NULL)
            s->jobs_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        char *resp = s->cfg->handler(s->cfg->ud, pa_buf_cstr(&c->in), c->in.len);
        pa_buf_free(&c->in); /* the request may hold an envelope: wipe now */

        pthread_mutex_lock(&s->lock);
        c->resp = resp;
        c->qnext = s->done;
        s->done = c;
        uint64_t one = 1;
        ssize_t w = write(s->evfd, &one, sizeof one);
        (void)w; /* a full counter still wakes the epoll thread */
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void expire_idle(server *s, int64_t now)
{
    conn *c = s->all;
    while (c != NULL) {
        conn *next = c->next;
        if (c->state != C_BUSY && now - c->last_ms > s->cfg->idle_timeout_ms)
            conn_close(s, c);
        c = next;
    }
}

static unsigned connection_cap(unsigned wanted)
{
    if (wanted > 0)
        return wanted;
    struct rlimit r;
    rlim_t soft = getrlimit(RLIMIT_NOFILE, &r) == 0 ? r.rlim_cur : 1024;
    if (soft == RLIM_INFINITY || soft > MAX_CONNECTIONS_CEILING + FD_RESERVE)
        return MAX_CONNECTIONS_CEILING;
    return soft > (rlim_t)2 * FD_RESERVE ? (unsigned)(soft - FD_RESERVE) : FD_RESERVE;
}

static void event_loop(server *s, volatile sig_atomic_t *stop)
{
    int64_t last_scan = mono_ms();
    while (!*stop) {
        struct epoll_event evs[64];
        int n = epoll_wait(s->ep, evs, 64, TICK_MS);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &listen_tag) {
                accept_all(s);
            } else if (p == &event_tag) {
                collect_done(s);
            } else {
                conn *c = p;
                if (c->state == C_READ &&
                    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
                    if (on_readable(s, c) != 0)
                        conn_close(s, c);
                } else if (c->state == C_WRITE) {
                    if (evs[i].events & (EPOLLHUP | EPOLLERR))
                        conn_close(s, c);
                    else
                        finish_write(s, c);
                }
            }
        }
        int64_t now = mono_ms();
        if (now - last_scan >= TICK_MS) {
            expire_idle(s, now);
            last_scan = now;
        }
    }
}

static int add_tag(int ep, int fd, const void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = (void *)tag};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int pa_serve_run(const pa_serve_config *cfg, volatile sig_atomic_t *stop, int grace_ms)
{
    server s = {.cfg = cfg, .ep = -1, .evfd = -1};
    s.max_conns = connection_cap(cfg->max_connections);
    s.max_buffered = cfg->max_buffered > 0 ? cfg->max_buffered : DEFAULT_MAX_BUFFERED;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.work, NULL);
    long nworkers = cfg->workers > 0 ? cfg->workers : 1;
    pthread_t *threads = calloc((size_t)nworkers, sizeof *threads);
    long started = 0;
    int rc = -1;

    int fl = fcntl(cfg->listen_fd, F_GETFL);
    PA_ENSURE_GOTO(threads != NULL && fl >= 0 &&
                       fcntl(cfg->listen_fd, F_SETFL, fl | O_NONBLOCK) == 0,
                   cleanup);
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    s.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    PA_ENSURE_GOTO(s.ep >= 0 && s.evfd >= 0, cleanup);
    PA_ENSURE_GOTO(add_tag(s.ep, cfg->listen_fd, &listen_tag) == 0 &&
                       add_tag(s.ep, s.evfd, &event_tag) == 0,
                   cleanup);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PA_WORKER_STACK);
    for (; started < nworkers; started++)
        if (pthread_create(&threads[started], &attr, worker_main, &s) != 0)
            break;
    pthread_attr_destroy(&attr);
    if (started < nworkers) {
        pa_log_error("cannot start %ld worker threads", nworkers);
        goto stop_workers;
    }
    pa_log_info("serving with %ld workers, up to %u connections, idle timeout %d ms", nworkers,
                s.max_conns, cfg->idle_timeout_ms);

    event_loop(&s, stop);

    /* Stop: no new connections or requests; answer what is in progress. */
    epoll_ctl(s.ep, EPOLL_CTL_DEL, cfg->listen_fd, NULL);
    for (conn *c = s.all; c != NULL;) {
        conn *next = c->next;
        if (c->state != C_BUSY)
            conn_close(&s, c);
        c = next;
    }
    int64_t end = mono_ms() + grace_ms;
    while (s.busy > 0 && mono_ms() < end) {
        struct epoll_event ev;
        if (epoll_wait(s.ep, &ev, 1, TICK_MS) > 0 && ev.data.ptr == &event_tag)
            collect_done(&s);
    }
    if (s.busy > 0) {
        pa_log_warn("%u requests still running after %d ms: abandoned", s.busy, grace_ms);
        free(threads); /* the workers still run: nothing else is torn down */
        return 1;
    }
    rc = 0;
stop_workers:
    pthread_mutex_lock(&s.lock);
    s.quit = 1;
    pthread_cond_broadcast(&s.work);
    pthread_mutex_unlock(&s.lock);
    for (long i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
cleanup:
    /* conn_close unlinks before freeing (see accept_all) */
    while (s.all != NULL)
        conn_close(&s, s.all); /* NOLINT(clang-analyzer-unix.Malloc) */
    if (s.evfd >= 0)
        close(s.evfd);
    if (s.ep >= 0)
        close(s.ep);
    free(threads);
    pthread_cond_destroy(&s.work);
    pthread_mutex_destroy(&s.lock);
    return rc;
}
