/* libcurl transport settings for the exchange connector (egress.h). */
#include "egress.h"

#include <string.h>

/* curl believes it talks to this proxy; the socket is ours (egress_opensocket),
 * so the literal is never resolved nor connected to. */
#define PA_EGRESS_PROXY_PLACEHOLDER "http://127.0.0.1:1"

/* Hands libcurl a stream connected to the relay instead of the TCP socket it
 * would open to PA_EGRESS_PROXY_PLACEHOLDER: AF_VSOCK on Nitro, AF_UNIX or
 * TCP in development. */
static curl_socket_t egress_opensocket(void *clientp, curlsocktype purpose,
                                       struct curl_sockaddr *address)
{
    (void)address;
    const pa_egress *g = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    int fd = pa_egress_addr_connect(&g->relay);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int egress_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    (void)clientp;
    (void)fd;
    (void)purpose;
    return CURL_SOCKOPT_ALREADY_CONNECTED;
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
        bad |= curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, NULL) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    }
    return bad ? -1 : 0;
}
