/* perfagg-relay: the host's egress relay for the enclave (untrusted host
 * side). An HTTP CONNECT proxy that opens a TCP tunnel only to host:port
 * pairs on its allow-list, resolves the name itself and refuses it when any
 * address it resolves to is not public (so a DNS answer cannot aim the
 * tunnel at the host's own network or the cloud metadata service), and caps
 * tunnels, idle time and connect time. The enclave runs TLS end to end
 * through the tunnel: the relay sees the CONNECT line and ciphertext only,
 * and logs neither payload nor headers.
 *
 * Usage: perfagg-relay [--listen ADDR] [--allow HOST:PORT]... [--dev-allow-local]
 *                      [--max-tunnels N] [--idle-timeout S] [--connect-timeout S]
 *                      [--record FILE]
 * ADDR: unix:/path, tcp://IP:PORT or vsock://CID:PORT (ipc_addr.h);
 * default tcp://127.0.0.1:8443. Default allow-list: the exchange hosts of
 * exchange_hosts.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/vm_sockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exchange_hosts.h"
#include "ipc_addr.h"
#include "log.h"
#include "policy.h"

#define RELAY_HEAD_TIMEOUT_MS 10000
#define RELAY_BUF 16384

static struct {
    pa_ipc_addr listen;
    char listen_text[PA_IPC_ADDR_MAX + 1];
    pa_relay_allowlist allow;
    unsigned max_tunnels;
    int idle_ms;
    int connect_ms;
    int record_fd;
} g = {.max_tunnels = 64, .idle_ms = 60000, .connect_ms = 10000, .record_fd = -1};

static volatile sig_atomic_t stopping;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned g_active;
static pthread_mutex_t g_record_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    int fd;
    unsigned long id;
    char peer[64];
} tunnel;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len); /* SIGPIPE is ignored */
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Development aid (--record): every byte the relay carries, both ways, for
 * the egress test that shows no secret crosses the host in the clear. */
static void record(unsigned long id, const char *dir, const void *data, size_t len)
{
    if (g.record_fd < 0 || len == 0)
        return;
    char hdr[96];
    int n = snprintf(hdr, sizeof hdr, "\n# tunnel %lu %s %zu\n", id, dir, len);
    pthread_mutex_lock(&g_record_lock);
    if (write_all(g.record_fd, hdr, (size_t)n) != 0 || write_all(g.record_fd, data, len) != 0)
        pa_log_warn("recording failed: %s", strerror(errno));
    pthread_mutex_unlock(&g_record_lock);
}

static void reply(const tunnel *t, int code, const char *reason)
{
    char r[128];
    int n = snprintf(r, sizeof r, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     code, reason);
    record(t->id, "reply", r, (size_t)n);
    (void)write_all(t->fd, r, (size_t)n);
}

static void describe_addr(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_VSOCK) {
        const struct sockaddr_vm *vm = (const struct sockaddr_vm *)sa;
        snprintf(out, cap, "vsock:%u", vm->svm_cid);
    } else {
        snprintf(out, cap, "unix");
    }
}

/* Reads the CONNECT head within RELAY_HEAD_TIMEOUT_MS. Returns the parse
 * status; buf/len hold everything read (the head and any early tunnel data). */
static pa_relay_req_status read_head(const tunnel *t, char *buf, size_t *len,
                                     pa_relay_target *target)
{
    int64_t deadline = mono_ms() + RELAY_HEAD_TIMEOUT_MS;
    *len = 0;
    for (;;) {
        pa_relay_req_status st = pa_relay_parse_connect(buf, *len, target);
        if (st != PA_RELAY_REQ_INCOMPLETE)
            return st;
        int64_t left = deadline - mono_ms();
        struct pollfd p = {.fd = t->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return PA_RELAY_REQ_INCOMPLETE;
        ssize_t n = recv(t->fd, buf + *len, PA_RELAY_HEAD_MAX - *len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return PA_RELAY_REQ_INCOMPLETE;
        *len += (size_t)n;
    }
}

/* A non-blocking connect bounded by g.connect_ms; the socket is made
 * blocking again afterwards. Returns the fd, -1 on failure, -2 on timeout. */
static int connect_bounded(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int pr = poll(&p, 1, g.connect_ms);
        if (pr == 0) {
            close(fd);
            return -2;
        }
        int err = 0;
        socklen_t el = sizeof err;
        rc = (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) ? -1 : 0;
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Resolves and connects to the target, enforcing the address policy.
 * Returns the upstream fd or -1 with *code / *why set for the client. */
static int open_upstream(const tunnel *t, const pa_relay_target *target,
                         const pa_relay_allow *entry, int *code, const char **why,
                         char *where, size_t where_cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (target->kind != PA_RELAY_HOST_NAME)
        hints.ai_flags = AI_NUMERICHOST;
    char port[8];
    snprintf(port, sizeof port, "%u", target->port);
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(target->host, port, &hints, &res);
    if (gai != 0 || res == NULL) {
        *code = 502;
        *why = "name does not resolve";
        return -1;
    }
    int fd = -1;
    /* Every address must pass, not just one: a name that resolves into the
     * host's private networks at all is not an exchange. Only an explicit
     * development entry (localhost or an IP literal, --dev-allow-local) is
     * exempt. */
    if (!entry->local) {
        for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
            if (!pa_relay_addr_public(ai->ai_addr)) {
                describe_addr(ai->ai_addr, where, where_cap);
                *code = 403;
                *why = "resolves to a non-public address";
                goto done;
            }
        }
    }
    *code = 502;
    *why = "connect failed";
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        describe_addr(ai->ai_addr, where, where_cap);
        fd = connect_bounded(ai);
        if (fd == -2) {
            *code = 504;
            *why = "connect timed out";
            fd = -1;
        }
    }
done:
    (void)t;
    freeaddrinfo(res);
    return fd;
}

/* Copies both ways until both sides finish or nothing moves for idle_ms. */
static const char *pump(const tunnel *t, int up, uint64_t *sent, uint64_t *received)
{
    char *buf = malloc(RELAY_BUF);
    if (buf == NULL)
        return "out of memory";
    int fds[2] = {t->fd, up};
    int open_in[2] = {1, 1};
    const char *how = "closed";
    while (open_in[0] || open_in[1]) {
        struct pollfd p[2] = {{.fd = open_in[0] ? fds[0] : -1, .events = POLLIN},
                              {.fd = open_in[1] ? fds[1] : -1, .events = POLLIN}};
        int pr = poll(p, 2, g.idle_ms);
        if (pr == 0) {
            how = "idle timeout";
            break;
        }
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            how = "poll failed";
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (!open_in[i] || p[i].revents == 0)
                continue;
            ssize_t n = recv(fds[i], buf, RELAY_BUF, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                /* Half-close: pass the end on and keep the other way open. */
                open_in[i] = 0;
                shutdown(fds[1 - i], SHUT_WR);
                continue;
            }
            record(t->id, i == 0 ? "c2s" : "s2c", buf, (size_t)n);
            if (write_all(fds[1 - i], buf, (size_t)n) != 0) {
                open_in[0] = open_in[1] = 0;
                how = "write failed";
                break;
            }
            *(i == 0 ? sent : received) += (uint64_t)n;
        }
    }
    free(buf);
    return how;
}

static void *tunnel_main(void *arg)
{
    tunnel *t = arg;
    int64_t t0 = mono_ms();
    char *buf = malloc(PA_RELAY_HEAD_MAX);
    int up = -1;
    pa_relay_target target;
    size_t len = 0;
    if (buf == NULL)
        goto done;
    struct timeval tv = {.tv_sec = g.idle_ms / 1000, .tv_usec = (suseconds_t)(g.idle_ms % 1000) * 1000};
    (void)setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    pa_relay_req_status st = read_head(t, buf, &len, &target);
    record(t->id, "head", buf, st == PA_RELAY_REQ_OK ? target.head_len : len);
    switch (st) {
    case PA_RELAY_REQ_OK:
        break;
    case PA_RELAY_REQ_METHOD:
        pa_log_warn("tunnel %lu from %s: refused: not a CONNECT request", t->id, t->peer);
        reply(t, 405, "Method Not Allowed");
        goto done;
    case PA_RELAY_REQ_TOO_LARGE:
        pa_log_warn("tunnel %lu from %s: refused: request head over %d bytes", t->id, t->peer,
                    PA_RELAY_HEAD_MAX);
        reply(t, 431, "Request Header Fields Too Large");
        goto done;
    case PA_RELAY_REQ_INCOMPLETE:
        pa_log_warn("tunnel %lu from %s: no complete request head (%zu bytes) in time", t->id,
                    t->peer, len);
        if (len > 0)
            reply(t, 408, "Request Timeout");
        goto done;
    case PA_RELAY_REQ_BAD:
    default:
        pa_log_warn("tunnel %lu from %s: refused: malformed CONNECT request", t->id, t->peer);
        reply(t, 400, "Bad Request");
        goto done;
    }
    /* target.host passed the parser's character rules: safe to log. */
    int v6 = target.kind == PA_RELAY_HOST_IPV6;
    char dest[PA_RELAY_HOST_MAX + 16];
    snprintf(dest, sizeof dest, "%s%s%s:%u", v6 ? "[" : "", target.host, v6 ? "]" : "",
             target.port);
    const pa_relay_allow *entry = pa_relay_allow_find(&g.allow, &target);
    if (entry == NULL) {
        pa_log_warn("tunnel %lu from %s: refused %s: not on the allow-list", t->id, t->peer, dest);
        reply(t, 403, "Forbidden");
        goto done;
    }
    int code = 502;
    const char *why = "";
    char where[80] = "";
    up = open_upstream(t, &target, entry, &code, &why, where, sizeof where);
    if (up < 0) {
        pa_log_warn("tunnel %lu from %s: refused %s: %s%s%s", t->id, t->peer, dest, why,
                    where[0] ? " " : "", where);
        reply(t, code, code == 403 ? "Forbidden" : code == 504 ? "Gateway Timeout" : "Bad Gateway");
        goto done;
    }
    (void)setsockopt(up, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    record(t->id, "reply", ok, sizeof ok - 1);
    if (write_all(t->fd, ok, sizeof ok - 1) != 0)
        goto done;
    uint64_t sent = 0, received = 0;
    if (len > target.head_len) { /* tunnel bytes sent before our answer */
        size_t early = len - target.head_len;
        record(t->id, "c2s", buf + target.head_len, early);
        if (write_all(up, buf + target.head_len, early) != 0)
            goto done;
        sent += early;
    }
    pa_log_info("tunnel %lu from %s: open to %s (%s)", t->id, t->peer, dest, where);
    const char *how = pump(t, up, &sent, &received);
    pa_log_info("tunnel %lu: %s after %lld ms; %llu bytes out, %llu bytes in", t->id, how,
                (long long)(mono_ms() - t0), (unsigned long long)sent,
                (unsigned long long)received);
done:
    if (up >= 0)
        close(up);
    /* The slot is free before the client sees the close. */
    pthread_mutex_lock(&g_lock);
    g_active--;
    pthread_mutex_unlock(&g_lock);
    close(t->fd);
    free(buf);
    free(t);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: perfagg-relay [--listen ADDR] [--allow HOST:PORT]... [--dev-allow-local]\n"
            "                     [--max-tunnels N] [--idle-timeout S] [--connect-timeout S]\n"
            "                     [--record FILE]\n"
            "  ADDR: unix:/path | tcp://IP:PORT | vsock://CID:PORT (default tcp://127.0.0.1:8443)\n"
            "  --allow           a CONNECT target (default %s and %s); repeatable\n"
            "  --dev-allow-local development: allow localhost and IP-literal entries, which\n"
            "                    connect without the public-address check\n"
            "  --record FILE     development: append every byte carried, both ways, to FILE\n",
            PA_BINANCE_RELAY_TARGET, PA_BINANCE_FUTURES_RELAY_TARGET);
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"allow", required_argument, NULL, 'a'},
        {"dev-allow-local", no_argument, NULL, 'D'},
        {"max-tunnels", required_argument, NULL, 'm'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"connect-timeout", required_argument, NULL, 'c'},
        {"record", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_text = "tcp://127.0.0.1:8443";
    const char *record_path = NULL;
    const char *allows[64];
    size_t nallow = 0;
    long v;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen_text = optarg;
            break;
        case 'a':
            if (nallow == PA_ARRAY_LEN(allows)) {
                fprintf(stderr, "perfagg-relay: at most %zu --allow entries\n", nallow);
                return -1;
            }
            allows[nallow++] = optarg;
            break;
        case 'D':
            g.allow.dev_allow_local = 1;
            break;
        case 'm':
            PA_GUARD(parse_count(optarg, 1, 4096, &v));
            g.max_tunnels = (unsigned)v;
            break;
        case 'i':
            PA_GUARD(parse_count(optarg, 1, 3600, &v));
            g.idle_ms = (int)v * 1000;
            break;
        case 'c':
            PA_GUARD(parse_count(optarg, 1, 120, &v));
            g.connect_ms = (int)v * 1000;
            break;
        case 'r':
            record_path = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc)
        return -1;
    if (pa_ipc_addr_parse(listen_text, PA_IPC_KINDS_ALL, &g.listen) != 0 ||
        pa_ipc_addr_format(&g.listen, g.listen_text, sizeof g.listen_text) != 0) {
        fprintf(stderr, "perfagg-relay: --listen must be unix:/path, tcp://IP:PORT or "
                        "vsock://CID:PORT\n");
        return -1;
    }
    if (nallow == 0) {
        allows[nallow++] = PA_BINANCE_RELAY_TARGET;
        allows[nallow++] = PA_BINANCE_FUTURES_RELAY_TARGET;
    }
    for (size_t i = 0; i < nallow; i++) {
        if (pa_relay_allow_add(&g.allow, allows[i]) != 0) {
            fprintf(stderr,
                    "perfagg-relay: --allow %s: not HOST:PORT, or a local/IP-literal entry "
                    "without --dev-allow-local\n",
                    allows[i]);
            return -1;
        }
    }
    if (record_path != NULL) {
        g.record_fd = open(record_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (g.record_fd < 0) {
            fprintf(stderr, "perfagg-relay: cannot open %s: %s\n", record_path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    pa_log_set_component("relay");
    if (parse_args(argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    /* A Unix socket is open to every local user: the relay only reaches the
     * allow-list, and the enclave may run as another user. */
    int lfd = pa_ipc_listen(&g.listen, 64, PA_IPC_MODE_ANY_USER);
    if (lfd < 0) {
        pa_log_error("cannot listen on %s: %s", g.listen_text, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char list[1024] = "";
    size_t off = 0;
    for (size_t i = 0; i < g.allow.len && off < sizeof list; i++) {
        const pa_relay_allow *a = &g.allow.v[i];
        int n = snprintf(list + off, sizeof list - off, "%s%s%s%s:%u", i ? " " : "",
                         a->kind == PA_RELAY_HOST_IPV6 ? "[" : "", a->host,
                         a->kind == PA_RELAY_HOST_IPV6 ? "]" : "", a->port);
        off += n > 0 ? (size_t)n : 0;
    }
    pa_log_info("listening on %s; allow %s%s; max %u tunnels, idle %d s, connect %d s%s",
                g.listen_text, list, g.allow.dev_allow_local ? " (development: local allowed)" : "",
                g.max_tunnels, g.idle_ms / 1000, g.connect_ms / 1000,
                g.record_fd >= 0 ? "; RECORDING every byte (development)" : "");

    unsigned long next_id = 1;
    while (!stopping) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, 500) <= 0)
            continue;
        struct sockaddr_storage peer = {0};
        socklen_t pl = sizeof peer;
        int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (fd < 0) {
            /* Out of descriptors (or memory) the client stays queued and
             * poll keeps saying so: wait for a tunnel to end, do not spin. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                (void)poll(NULL, 0, 100);
            continue;
        }
        tunnel *t = calloc(1, sizeof *t);
        if (t == NULL) {
            close(fd);
            continue;
        }
        t->fd = fd;
        t->id = next_id++;
        describe_addr((struct sockaddr *)&peer, t->peer, sizeof t->peer);
        pthread_mutex_lock(&g_lock);
        int full = g_active >= g.max_tunnels;
        if (!full)
            g_active++;
        pthread_mutex_unlock(&g_lock);
        if (full) {
            pa_log_warn("tunnel %lu from %s: refused: %u tunnels open", t->id, t->peer,
                        g.max_tunnels);
            (void)fcntl(fd, F_SETFL, O_NONBLOCK);
            reply(t, 503, "Service Unavailable");
            close(fd);
            free(t);
            continue;
        }
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, tunnel_main, t) != 0) {
            close(fd);
            free(t);
            pthread_mutex_lock(&g_lock);
            g_active--;
            pthread_mutex_unlock(&g_lock);
        }
        pthread_attr_destroy(&attr);
    }
    pa_log_info("stopping");
    close(lfd);
    if (g.listen.kind == PA_IPC_UNIX)
        unlink(g.listen.path);
    pa_relay_allow_free(&g.allow);
    return 0;
}
