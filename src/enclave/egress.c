/* libcurl transport settings for the exchange connector (egress.h). */
#include "egress.h"

#include <string.h>

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
 *    ignores that answer (curl issue #10626, fixed in 8.0.0): config.c
 *    refuses a vsock relay with an older libcurl rather than fail later. */
static curl_socket_t egress_opensocket(void *clientp, curlsocktype purpose,
                                       struct curl_sockaddr *address)
{
    const pa_egress *g = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (g->relay.family == AF_VSOCK) {
        int fd = pa_egress_addr_connect(&g->relay);
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    }
    if (g->relay.len > sizeof(struct sockaddr_storage))
        return CURL_SOCKET_BAD;
    int fd = socket(g->relay.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return CURL_SOCKET_BAD;
    address->family = g->relay.family;
    address->socktype = SOCK_STREAM;
    address->protocol = 0;
    address->addrlen = g->relay.len;
    memcpy(&address->addr, &g->relay.sa, g->relay.len);
    return fd;
}

static int egress_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    const pa_egress *g = clientp;
    (void)fd;
    (void)purpose;
    return g->relay.family == AF_VSOCK ? CURL_SOCKOPT_ALREADY_CONNECTED : CURL_SOCKOPT_OK;
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
