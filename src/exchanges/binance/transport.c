/* Binance's REST transport (transport.h).
 *
 * Secrets: the API key lives only in the header string (a wiped pa_buf, and
 * curl's own copy, which the enclave's wiping allocators clear); the secret only
 * in HMAC's input; every query string that carried a signature is wiped. Nothing
 * secret ever reaches `detail`, a log line or an audit entry. */
#include "transport.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "codec.h"
#include "egress.h"
#include "json_strict.h"
#include "timeutil.h"
#include "wire.h"

#define BN_RECV_WINDOW_MS 5000
#define BN_URL_CAP 16384
#define BN_BASE_URL_MAX 512
#define BN_KEY_MAX 512
#define BN_MSG_MAX 100 /* exchange error text copied into detail */

int pa_binance_sign(const char *secret, const char *query, char out_hex[65])
{
    if (secret == NULL || query == NULL || out_hex == NULL)
        return -1;
    size_t klen = strlen(secret);
    if (klen == 0 || klen > INT_MAX)
        return -1;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int rc = -1;
    if (HMAC(EVP_sha256(), secret, (int)klen, (const unsigned char *)query, strlen(query), mac,
             &mac_len) == NULL)
        goto cleanup;
    PA_ENSURE_GOTO(mac_len == 32, cleanup);
    pa_hex_encode(mac, mac_len, out_hex);
    rc = 0;
cleanup:
    OPENSSL_cleanse(mac, sizeof mac);
    return rc;
}

int pa_bn_base_url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > BN_BASE_URL_MAX || u[n - 1] == '/')
        return 0;
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] <= 0x20 || u[i] >= 0x7f || u[i] == '?' || u[i] == '#')
            return 0;
    return 1;
}

int pa_bn_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > BN_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] <= 0x20 || k[i] >= 0x7f)
            return 0;
    return 1;
}

static size_t bn_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    pa_bn_transport *t = userdata;
    size_t n = size * nmemb;
    if (t->body.len + n > t->body_limit || pa_buf_append(&t->body, data, n) != 0) {
        t->body_overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

int pa_bn_transport_open(pa_bn_transport *t, const pa_exchange_params *p, pa_exchange_result *out)
{
    memset(t, 0, sizeof *t);
    t->p = p;
    t->out = out;
    pa_buf_init(&t->body, PA_BN_EXCHANGE_INFO_CAP);
    pa_buf_init(&t->hdr, BN_KEY_MAX + 64);
    long timeout = p->timeout_ms > 0 ? p->timeout_ms : PA_BN_DEFAULT_TIMEOUT_MS;
    int bad = 1;
    t->curl = curl_easy_init();
    PA_ENSURE_GOTO(t->curl != NULL, done);
    PA_GUARD_GOTO(pa_buf_printf(&t->hdr, "X-MBX-APIKEY: %s", p->api_key), done);
    t->headers = curl_slist_append(NULL, pa_buf_cstr(&t->hdr));
    PA_ENSURE_GOTO(t->headers != NULL, done);
    struct curl_slist *h = curl_slist_append(t->headers, "Accept: application/json");
    PA_ENSURE_GOTO(h != NULL, done);
    t->headers = h;
    CURL *e = t->curl;
    bad = 0;
    /* The key header goes with every call, unsigned ones included, as Binance's
     * own clients do; on the same TLS connection that reveals nothing more. */
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, bn_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, t) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    /* Protocols, redirects (none), TLS trust and the relay: egress.c. */
    bad |= pa_egress_curl_setup(e, p->egress) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "perfagg-enclave/1") != CURLE_OK;
done:
    if (bad)
        pa_exchange_detail(out, "binance: could not set up the HTTP client");
    return bad ? -1 : 0;
}

void pa_bn_transport_close(pa_bn_transport *t)
{
    if (t->curl != NULL)
        curl_easy_cleanup(t->curl);
    curl_slist_free_all(t->headers);
    pa_buf_free(&t->hdr);
    pa_buf_free(&t->body);
    t->curl = NULL;
    t->headers = NULL;
}

/* Printable ASCII of an exchange error message, shortened; and withheld
 * entirely should a (misbehaving) server ever echo the key or the secret. */
static void bn_safe_msg(const pa_bn_transport *t, const char *msg, char *out, size_t cap)
{
    size_t n = 0;
    if (msg != NULL && strstr(msg, t->p->api_key) == NULL &&
        strstr(msg, t->p->api_secret) == NULL) {
        for (; msg[n] != '\0' && n + 1 < cap && n < BN_MSG_MAX; n++)
            out[n] = (char)((msg[n] >= 0x20 && msg[n] < 0x7f) ? msg[n] : '?');
    }
    out[n] = '\0';
}

/* One GET. On HTTP 200, *out is the parsed body. Otherwise *code is Binance's
 * error code (0 when the body had none) and detail describes the failure. */
static pa_exchange_status bn_perform(pa_bn_transport *t, const char *path, const pa_buf *url,
                                     size_t limit, json_t **out, long *code)
{
    *out = NULL;
    *code = 0;
    pa_buf_reset(&t->body);
    t->body_limit = limit;
    t->body_overflow = 0;
    if (curl_easy_setopt(t->curl, CURLOPT_URL, pa_buf_cstr(url)) != CURLE_OK ||
        curl_easy_setopt(t->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)limit) != CURLE_OK) {
        pa_exchange_detail(t->out, "binance: could not prepare the request to %s", path);
        return PA_EXCHANGE_UNAVAILABLE;
    }
    CURLcode cc = curl_easy_perform(t->curl);
    if (t->body_overflow || cc == CURLE_FILESIZE_EXCEEDED) {
        pa_exchange_detail(t->out, "binance: %s answered more than %zu bytes", path, limit);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (cc != CURLE_OK) {
        /* curl_easy_strerror is a fixed text: it never holds the URL. */
        pa_exchange_detail(t->out, "binance: %s: %s", path, curl_easy_strerror(cc));
        return PA_EXCHANGE_UNAVAILABLE;
    }
    long http = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &http);
    json_t *doc = pa_json_parse((const char *)t->body.data, t->body.len, limit);
    if (http == 200) {
        if (doc == NULL) {
            pa_exchange_detail(t->out, "binance: %s answered something that is not JSON", path);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        *out = doc;
        return PA_EXCHANGE_OK;
    }
    const char *raw_msg = NULL;
    char msg[BN_MSG_MAX + 1];
    if (pa_bn_decode_error(doc, code, &raw_msg) == 0) {
        bn_safe_msg(t, raw_msg, msg, sizeof msg);
        pa_exchange_detail(t->out, "binance: HTTP %ld on %s: %ld %s", http, path, *code, msg);
    } else {
        pa_exchange_detail(t->out, "binance: HTTP %ld on %s", http, path);
    }
    json_decref(doc);
    return pa_bn_error_status(http, *code);
}

/* GET /api/v3/time: the server's clock, to timestamp signed calls after a
 * -1021. Offsetting from the *end* of the call keeps our timestamps at or
 * behind the server's clock: Binance refuses one more than 1 s ahead, but
 * accepts one up to recvWindow behind. */
static pa_exchange_status bn_sync_clock(pa_bn_transport *t)
{
    pa_buf url;
    pa_buf_init(&url, BN_URL_CAP);
    json_t *doc = NULL;
    long code = 0;
    pa_exchange_status st = PA_EXCHANGE_UNAVAILABLE;
    if (pa_buf_printf(&url, "%s/api/v3/time", t->p->base_url) != 0) {
        pa_exchange_detail(t->out, "binance: URL too long");
        goto cleanup;
    }
    st = bn_perform(t, "/api/v3/time", &url, PA_BN_BODY_CAP, &doc, &code);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    int64_t local = pa_now_ms();
    int64_t server = 0;
    if (pa_bn_decode_server_time(doc, &server) != 0) {
        pa_exchange_detail(t->out, "binance: /api/v3/time answered without serverTime");
        st = PA_EXCHANGE_BAD_RESPONSE;
        goto cleanup;
    }
    t->clock_offset_ms = server - local;
cleanup:
    json_decref(doc);
    pa_buf_free(&url);
    return st;
}

pa_exchange_status pa_bn_get(pa_bn_transport *t, const char *path, const char *params,
                             int is_signed, size_t limit, json_t **out)
{
    pa_buf query, url;
    pa_buf_init(&query, BN_URL_CAP);
    pa_buf_init(&url, BN_URL_CAP);
    char sig[65] = {0};
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        pa_buf_reset(&query);
        pa_buf_reset(&url);
        int bad = pa_buf_append_str(&query, params);
        if (is_signed) {
            bad |= pa_buf_printf(&query, "%srecvWindow=%d&timestamp=%" PRId64,
                                 params[0] != '\0' ? "&" : "", BN_RECV_WINDOW_MS,
                                 pa_now_ms() + t->clock_offset_ms);
            bad |= pa_binance_sign(t->p->api_secret, pa_buf_cstr(&query), sig);
            bad |= pa_buf_printf(&query, "&signature=%s", sig);
        }
        bad |= pa_buf_printf(&url, "%s%s%s%s", t->p->base_url, path, query.len > 0 ? "?" : "",
                             pa_buf_cstr(&query));
        if (bad != 0) {
            pa_exchange_detail(t->out, "binance: could not build the request to %s", path);
            st = PA_EXCHANGE_BAD_RESPONSE;
            goto cleanup;
        }
        long code = 0;
        st = bn_perform(t, path, &url, limit, out, &code);
        if (st == PA_EXCHANGE_OK || !is_signed || code != -1021)
            goto cleanup;
        if (attempt == 1) { /* still outside recvWindow with the server's own clock */
            st = PA_EXCHANGE_UNAVAILABLE;
            goto cleanup;
        }
        st = bn_sync_clock(t);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
cleanup:
    OPENSSL_cleanse(sig, sizeof sig);
    pa_buf_free(&query);
    pa_buf_free(&url);
    return st;
}
