/* libcurl transport settings for the exchange connector (egress.h). */
#include "egress.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "thread_stack.h"

/* curl believes it talks to this proxy; egress_opensocket replaces the
 * address (or the socket), so the literal is never resolved nor connected to. */
#define PA_EGRESS_PROXY_PLACEHOLDER "http://127.0.0.1:1"

/* Points libcurl's connection to the proxy at the relay.
 *  - unix and tcp: a socket of the relay's family, and curl's address
 *    rewritten to the relay's (libcurl documents that this callback may change
 *    the address; its storage is a sockaddr_storage). curl connects itself.
 *  - vsock (Nitro: the enclave has no network): curl cannot connect or even
 *    print an AF_VSOCK address, so we hand it a socket we connected and
 *    egress_sockopt says CURL_SOCKOPT_ALREADY_CONNECTED. libcurl 7.88.x
 *    ignores that answer (curl issue #10626, fixed in 8.0.0); there enclave_config.c
 *    sets g->bridge, and curl connects to an abstract Unix socket of ours
 *    whose thread splices it to the relay (egress.h). */
/* ---- the bridge (libcurl < 8 with a vsock relay) ------------------------ */

#define PA_EGRESS_BRIDGE_ACCEPT_MS 10000

typedef struct {
    int listener;
    pa_ipc_addr relay;
} egress_bridge;

static int bridge_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        /* Both ends are sockets; a peer that has gone must be an error
         * here, not a SIGPIPE for whatever process hosts the bridge. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copies both ways until either side ends: curl never half-closes a TLS
 * connection, and a relay that ends its side ends the tunnel. */
static void bridge_splice(int a, int b)
{
    char buf[16384];
    int fds[2] = {a, b};
    for (;;) {
        struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].revents == 0)
                continue;
            ssize_t n = read(fds[i], buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0 || bridge_write_all(fds[1 - i], buf, (size_t)n) != 0)
                return;
        }
    }
}

static void *bridge_main(void *arg)
{
    egress_bridge *br = arg;
    int client = -1, up = -1;
    struct pollfd p = {.fd = br->listener, .events = POLLIN};
    if (poll(&p, 1, PA_EGRESS_BRIDGE_ACCEPT_MS) == 1)
        client = accept4(br->listener, NULL, NULL, SOCK_CLOEXEC);
    close(br->listener);
    /* Only this process may use its bridge. */
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (client >= 0 && getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 &&
        cred.pid == getpid())
        up = pa_ipc_connect_addr(&br->relay, 0);
    if (up >= 0)
        bridge_splice(client, up);
    if (up >= 0)
        close(up);
    if (client >= 0)
        close(client);
    free(br);
    return NULL;
}

/* A one-shot abstract Unix listener with its thread; the address curl must
 * connect to goes into *sa. Returns 0 or -1. */
static int bridge_start(const pa_egress *g, struct sockaddr_un *sa, socklen_t *len)
{
    static unsigned long counter;
    unsigned long n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int name = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "perfagg-egress-%ld-%lu",
                        (long)getpid(), n);
    if (name <= 0 || (size_t)name >= sizeof sa->sun_path - 1)
        return -1;
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)name);
    egress_bridge *br = calloc(1, sizeof *br);
    if (br == NULL)
        return -1;
    br->relay = g->relay;
    br->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    pthread_t t;
    pthread_attr_t attr;
    if (br->listener < 0 || bind(br->listener, (struct sockaddr *)sa, *len) != 0 ||
        listen(br->listener, 1) != 0 || pthread_attr_init(&attr) != 0)
        goto fail;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_attr_setstacksize(&attr, PA_BRIDGE_STACK);
    if (rc == 0)
        rc = pthread_create(&t, &attr, bridge_main, br);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    if (br->listener >= 0)
        close(br->listener);
    free(br);
    return -1;
}

/* ---- libcurl callbacks --------------------------------------------------- */

static curl_socket_t egress_opensocket(void *clientp, curlsocktype purpose,
                                       struct curl_sockaddr *address)
{
    const pa_egress *g = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (g->bridge) {
        struct sockaddr_un sa;
        socklen_t len;
        if (bridge_start(g, &sa, &len) != 0)
            return CURL_SOCKET_BAD;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return CURL_SOCKET_BAD;
        address->family = AF_UNIX;
        address->socktype = SOCK_STREAM;
        address->protocol = 0;
        address->addrlen = len;
        memcpy(&address->addr, &sa, len);
        return fd;
    }
    if (g->relay.kind == PA_IPC_VSOCK) {
        int fd = pa_ipc_connect_addr(&g->relay, 0);
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    if (pa_ipc_addr_sockaddr(&g->relay, &ss, &len) != 0)
        return CURL_SOCKET_BAD;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return CURL_SOCKET_BAD;
    address->family = ss.ss_family;
    address->socktype = SOCK_STREAM;
    address->protocol = 0;
    address->addrlen = len;
    memcpy(&address->addr, &ss, len);
    return fd;
}

static int egress_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    const pa_egress *g = clientp;
    (void)fd;
    (void)purpose;
    return g->relay.kind == PA_IPC_VSOCK && !g->bridge ? CURL_SOCKOPT_ALREADY_CONNECTED
                                                       : CURL_SOCKOPT_OK;
}

int pa_egress_vsock_supported(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v != NULL && v->version_num >= 0x080000;
}

int pa_egress_curl_setup(CURL *e, const pa_egress *g)
{
    static const pa_egress dev_default = {0};
    if (g == NULL)
        g = &dev_default;
    int bad = 0;
    const char *protocols = g->https_only ? "https" : "https,http";
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols) != CURLE_OK;
    /* No redirects at all: a Location could point anywhere, and it would take
     * the signed query string and the key header with it. */
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    /* Security level 2 (112-bit keys and hashes) explicitly: the enclave reads
     * no OpenSSL configuration (secure_alloc.c), so Debian's system default
     * does not apply, and it must not depend on one. */
    bad |= curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=2") != CURLE_OK;
    /* Trust: exactly one explicit source. CAPATH is cleared so neither
     * libcurl's built-in directory nor SSL_CERT_DIR adds roots. */
    bad |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK;
    if (g->ca_blob != NULL) {
        struct curl_blob blob = {.data = (void *)g->ca_blob, .len = g->ca_blob_len,
                                 .flags = CURL_BLOB_COPY};
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, NULL) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK;
    } else {
        const char *file = g->ca_file != NULL ? g->ca_file : PA_EGRESS_SYSTEM_CA;
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, file) != CURLE_OK;
    }
    /* An explicit proxy setting ("" = none) and an explicit empty no-proxy
     * list override http_proxy, https_proxy, all_proxy and no_proxy. Custom
     * headers (the API key) go to the exchange only, never to the proxy. */
    bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROXYHEADER, NULL) != CURLE_OK;
    if (g->use_relay) {
        bad |= curl_easy_setopt(e, CURLOPT_PROXY, PA_EGRESS_PROXY_PLACEHOLDER) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, egress_opensocket) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)g) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, egress_sockopt) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, (void *)g) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    }
    return bad ? -1 : 0;
}
