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
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "callstats.h"
#include "codec.h"
#include "egress.h"
#include "json_strict.h"
#include "pacing.h"
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

int pa_binance_secret_is_pem(const char *secret)
{
    return secret != NULL && strncmp(secret, "-----BEGIN ", 11) == 0;
}

int pa_binance_load_ed25519(const char *pem, EVP_PKEY **out)
{
    *out = NULL;
    size_t n = strlen(pem);
    if (n == 0 || n > INT_MAX)
        return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    if (bio == NULL)
        return -1;
    /* No password callback: an encrypted key is refused, never prompted for. */
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    BIO_free(bio);
    if (k == NULL || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

int pa_binance_sign_ed25519(EVP_PKEY *key, const char *query, char out[PA_BN_ED25519_SIG_MAX])
{
    uint8_t sig[64];
    size_t sig_len = sizeof sig;
    char *b64 = NULL;
    int rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(key != NULL && query != NULL && ctx != NULL, cleanup);
    /* Ed25519 is "one-shot": no digest, the whole message at once. */
    PA_ENSURE_GOTO(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1, cleanup);
    PA_ENSURE_GOTO(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)query,
                                  strlen(query)) == 1 &&
                       sig_len == sizeof sig,
                   cleanup);
    b64 = pa_b64_encode(sig, sig_len);
    PA_ENSURE_GOTO(b64 != NULL, cleanup);
    size_t o = 0;
    for (const char *c = b64; *c != '\0'; c++) {
        const char *esc = *c == '+' ? "%2B" : *c == '/' ? "%2F" : *c == '=' ? "%3D" : NULL;
        size_t w = esc != NULL ? 3 : 1;
        PA_ENSURE_GOTO(o + w < PA_BN_ED25519_SIG_MAX, cleanup);
        memcpy(out + o, esc != NULL ? esc : c, w);
        o += w;
    }
    out[o] = '\0';
    rc = 0;
cleanup:
    EVP_MD_CTX_free(ctx);
    free(b64);
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

/* Binance's response headers that steer pacing: the weight used this
 * minute, and how long to stay away after a 429 or 418. */
static long header_number(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return -2;
    long v = 0;
    size_t i = k + 1, digits = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    for (; i < n && line[i] >= '0' && line[i] <= '9' && digits < 9; i++, digits++)
        v = v * 10 + (line[i] - '0');
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    return digits > 0 && i == n ? v : -1;
}

static size_t bn_header(char *line, size_t size, size_t nitems, void *userdata)
{
    pa_bn_transport *t = userdata;
    size_t n = size * nitems;
    long v = header_number(line, n, "X-MBX-USED-WEIGHT-1M");
    if (v >= 0)
        t->used_weight = v;
    v = header_number(line, n, "X-SAPI-USED-IP-WEIGHT-1M");
    if (v >= 0)
        t->used_sapi_weight = v;
    v = header_number(line, n, "Retry-After");
    if (v >= 0)
        t->retry_after_s = v;
    return n;
}

int pa_bn_transport_open(pa_bn_transport *t, const pa_exchange_params *p, pa_exchange_result *out)
{
    memset(t, 0, sizeof *t);
    t->p = p;
    t->out = out;
    /* /sapi/ weight counts on a limiter of its own: its own pacing key */
    snprintf(t->sapi_host, sizeof t->sapi_host, "%.512s /sapi", p->base_url);
    pa_buf_init(&t->body, PA_BN_EXCHANGE_INFO_CAP);
    pa_buf_init(&t->hdr, BN_KEY_MAX + 64);
    long timeout = p->timeout_ms > 0 ? p->timeout_ms : PA_BN_DEFAULT_TIMEOUT_MS;
    t->wait_left_ms = p->max_wait_ms > 0 ? p->max_wait_ms : PA_EXCHANGE_MAX_WAIT_MS;
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
    if (pa_binance_secret_is_pem(p->api_secret) &&
        pa_binance_load_ed25519(p->api_secret, &t->ed25519) != 0) {
        pa_exchange_detail(out, "binance: the apiSecret is a PEM text but not an unencrypted "
                                "Ed25519 private key");
        t->bad_key = 1;
        return -1;
    }
    bad = 0;
    /* The key header goes with every call, unsigned ones included, as Binance's
     * own clients do; on the same TLS connection that reveals nothing more. */
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, bn_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, t) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, bn_header) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, t) != CURLE_OK;
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
    EVP_PKEY_free(t->ed25519); /* wipes the private key */
    t->ed25519 = NULL;
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
static pa_exchange_status bn_perform_once(pa_bn_transport *t, const char *path, const pa_buf *url,
                                          size_t limit, json_t **out, long *code, long *http_out,
                                          int *transient)
{
    *out = NULL;
    *code = 0;
    *http_out = 0;
    *transient = 0;
    t->used_weight = -1;
    t->used_sapi_weight = -1;
    t->retry_after_s = -1;
    pa_buf_reset(&t->body);
    t->body_limit = limit;
    t->body_overflow = 0;
    if (curl_easy_setopt(t->curl, CURLOPT_URL, pa_buf_cstr(url)) != CURLE_OK ||
        curl_easy_setopt(t->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)limit) != CURLE_OK) {
        pa_exchange_detail(t->out, "binance: could not prepare the request to %s", path);
        return PA_EXCHANGE_UNAVAILABLE;
    }
    int64_t started = pa_mono_us();
    CURLcode cc = curl_easy_perform(t->curl);
    t->out->io_us += pa_mono_us() - started;
    if (t->body_overflow || cc == CURLE_FILESIZE_EXCEEDED) {
        pa_exchange_detail(t->out, "binance: %s answered more than %zu bytes", path, limit);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (cc != CURLE_OK) {
        /* Worth another try: a timeout or a connection the server's load
         * broke; not our request, a certificate, the policy, or nothing
         * listening at all (a refused connect fails at once, as before). */
        *transient = cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_SEND_ERROR ||
                     cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_PARTIAL_FILE;
        /* curl_easy_strerror is a fixed text: it never holds the URL. */
        pa_exchange_detail(t->out, "binance: %s: %s", path, curl_easy_strerror(cc));
        return PA_EXCHANGE_UNAVAILABLE;
    }
    long http = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &http);
    *http_out = http;
    if (t->used_weight >= 0)
        pa_pace_report_used(t->p->base_url, t->used_weight);
    if (t->used_sapi_weight >= 0)
        pa_pace_report_used(t->sapi_host, t->used_sapi_weight);
    started = pa_mono_us();
    json_t *doc = pa_json_parse((const char *)t->body.data, t->body.len, limit);
    t->out->json_us += pa_mono_us() - started;
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
    *transient = http == 429 || http >= 500;
    return pa_bn_error_status(http, *code);
}

/* bn_perform_once, counted by venue and outcome for the stats op. */
static pa_exchange_status bn_perform(pa_bn_transport *t, const char *path, const pa_buf *url,
                                     size_t limit, json_t **out, long *code, long *http_out,
                                     int *transient)
{
    pa_exchange_status st = bn_perform_once(t, path, url, limit, out, code, http_out, transient);
    long http = *http_out;
    pa_call_outcome o = st == PA_EXCHANGE_OK             ? PA_CALL_OK
                        : http == 429                    ? PA_CALL_HTTP_429
                        : http == 418                    ? PA_CALL_HTTP_418
                        : http >= 500                    ? PA_CALL_HTTP_5XX
                        : http >= 400                    ? PA_CALL_HTTP_4XX
                        : st == PA_EXCHANGE_BAD_RESPONSE ? PA_CALL_BAD_RESPONSE
                                                         : PA_CALL_NETWORK;
    pa_callstats_record(
        strncmp(path, "/fapi/", 6) == 0 ? PA_VENUE_BINANCE_USDM : PA_VENUE_BINANCE_SPOT, o);
    return st;
}

static int bn_is_sapi(const char *path)
{
    return strncmp(path, "/sapi/", 6) == 0;
}

/* Request weights as Binance documents them (docs/BINANCE.md has the table).
 * Spot (rest-api.md): exchangeInfo without a symbol filter, account and
 * myTrades without orderId 20; klines 2; time 1. The /sapi/ endpoints count
 * on their own IP limiter (12000 a minute): accountSnapshot 2400,
 * apiRestrictions, deposit history and transfer history 1; the withdrawal
 * history weighs 18000 on the per-account UID limiter (180000 a minute),
 * nothing on the IP one. */
static unsigned bn_weight(const char *path)
{
    if (bn_is_sapi(path))
        return strcmp(path, "/sapi/v1/accountSnapshot") == 0            ? 2400
               : strcmp(path, "/sapi/v1/capital/withdraw/history") == 0 ? 0
                                                                        : 1;
    /* USD-M futures (derivatives docs): income 30, userTrades 5, klines 5
     * (limit 500..1000, the connector's 1000), time and exchangeInfo 1. */
    if (strncmp(path, "/fapi/", 6) == 0)
        return strcmp(path, "/fapi/v1/income") == 0                                           ? 30
               : strcmp(path, "/fapi/v1/userTrades") == 0 || strcmp(path, "/fapi/v1/klines") == 0 ? 5
                                                                                               : 1;
    return strcmp(path, "/api/v3/time") == 0 ? 1 : strcmp(path, "/api/v3/klines") == 0 ? 2 : 20;
}

/* The futures host has its own, smaller limit (2400 a minute), a fifth kept
 * free as for spot; so has /sapi/ (12000). */
static unsigned bn_budget(const char *path)
{
    return strncmp(path, "/fapi/", 6) == 0 ? PA_BN_FAPI_WEIGHT_BUDGET
           : bn_is_sapi(path)              ? PA_BN_SAPI_WEIGHT_BUDGET
                                           : PA_BN_WEIGHT_BUDGET;
}

/* The server clock of the host that refused a timestamp. */
static const char *bn_time_path(const char *path)
{
    return strncmp(path, "/fapi/", 6) == 0 ? "/fapi/v1/time" : "/api/v3/time";
}

/* Takes the call's weight from the host's shared budget. */
static pa_exchange_status bn_pace(pa_bn_transport *t, const char *path)
{
    int64_t wait = 0, t0 = pa_now_ms();
    /* the development override (PERFAGG_EXCHANGE_WEIGHT_BUDGET) or the host's own budget */
    unsigned budget = t->p->weight_budget > 0 ? t->p->weight_budget : bn_budget(path);
    pa_pace_verdict v;
    if (bn_is_sapi(path)) {
        /* a ban or a 429 hold on the host holds for /sapi/ too; the weight
         * is the sapi limiter's */
        v = pa_pace_acquire(t->p->base_url, 0, budget, t0 + t->wait_left_ms, &wait);
        if (v == PA_PACE_GO)
            v = pa_pace_acquire(t->sapi_host, bn_weight(path), budget, t0 + t->wait_left_ms,
                                &wait);
    } else {
        v = pa_pace_acquire(t->p->base_url, bn_weight(path), budget, t0 + t->wait_left_ms,
                            &wait);
    }
    /* time spent waiting for the next window comes out of the allowance */
    int64_t waited = pa_now_ms() - t0;
    t->wait_left_ms = waited < t->wait_left_ms ? t->wait_left_ms - waited : 0;
    switch (v) {
    case PA_PACE_GO:
        return PA_EXCHANGE_OK;
    case PA_PACE_BANNED:
        t->out->retry_after_ms = wait;
        pa_exchange_detail(t->out,
                           "binance: the exchange has banned this enclave's address (HTTP 418) "
                           "for another %" PRId64 " s; no call was made",
                           (wait + 999) / 1000);
        return PA_EXCHANGE_BANNED;
    case PA_PACE_TOO_LONG:
        pa_exchange_detail(t->out,
                           "binance: the request weight budget is spent (or the exchange asked "
                           "for a pause) for another %" PRId64 " s, longer than this run may wait",
                           (wait + 999) / 1000);
        return PA_EXCHANGE_UNAVAILABLE;
    case PA_PACE_FULL:
    default:
        pa_exchange_detail(t->out, "binance: too many exchange hosts to pace");
        return PA_EXCHANGE_UNAVAILABLE;
    }
}

/* Equal-jitter exponential backoff: half of min(cap, base * 2^attempt),
 * plus a random part of the other half, so concurrent runs spread out. */
static int64_t bn_backoff_ms(int attempt)
{
    int64_t d = PA_BN_BACKOFF_BASE_MS;
    for (int i = 0; i < attempt && d < PA_BN_BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > PA_BN_BACKOFF_CAP_MS)
        d = PA_BN_BACKOFF_CAP_MS;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = 0;
    return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

static void bn_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* GET /api/v3/time: the server's clock, to timestamp signed calls after a
 * -1021. Offsetting from the *end* of the call keeps our timestamps at or
 * behind the server's clock: Binance refuses one more than 1 s ahead, but
 * accepts one up to recvWindow behind. */
static pa_exchange_status bn_sync_clock(pa_bn_transport *t, const char *time_path)
{
    pa_buf url;
    pa_buf_init(&url, BN_URL_CAP);
    json_t *doc = NULL;
    long code = 0, http = 0;
    int transient = 0;
    pa_exchange_status st = PA_EXCHANGE_UNAVAILABLE;
    if (pa_buf_printf(&url, "%s%s", t->p->base_url, time_path) != 0) {
        pa_exchange_detail(t->out, "binance: URL too long");
        goto cleanup;
    }
    st = bn_pace(t, time_path);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    st = bn_perform(t, time_path, &url, PA_BN_BODY_CAP, &doc, &code, &http, &transient);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    int64_t local = pa_now_ms();
    int64_t server = 0;
    if (pa_bn_decode_server_time(doc, &server) != 0) {
        pa_exchange_detail(t->out, "binance: %s answered without serverTime", time_path);
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
    char sig[PA_BN_ED25519_SIG_MAX] = {0};
    _Static_assert(sizeof sig >= 65, "the HMAC signature must fit too");
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;
    int resynced = 0, retries = 0;
    *out = NULL;
    for (;;) {
        pa_buf_reset(&query);
        pa_buf_reset(&url);
        int bad = pa_buf_append_str(&query, params);
        if (is_signed) {
            bad |= pa_buf_printf(&query, "%srecvWindow=%d&timestamp=%" PRId64,
                                 params[0] != '\0' ? "&" : "", BN_RECV_WINDOW_MS,
                                 pa_now_ms() + t->clock_offset_ms);
            bad |= t->ed25519 != NULL
                       ? pa_binance_sign_ed25519(t->ed25519, pa_buf_cstr(&query), sig)
                       : pa_binance_sign(t->p->api_secret, pa_buf_cstr(&query), sig);
            bad |= pa_buf_printf(&query, "&signature=%s", sig);
        }
        bad |= pa_buf_printf(&url, "%s%s%s%s", t->p->base_url, path, query.len > 0 ? "?" : "",
                             pa_buf_cstr(&query));
        if (bad != 0) {
            pa_exchange_detail(t->out, "binance: could not build the request to %s", path);
            st = PA_EXCHANGE_BAD_RESPONSE;
            goto cleanup;
        }
        st = bn_pace(t, path);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
        long code = 0, http = 0;
        int transient = 0;
        st = bn_perform(t, path, &url, limit, out, &code, &http, &transient);
        t->last_code = code;
        if (st == PA_EXCHANGE_OK)
            goto cleanup;
        if (is_signed && code == -1021) {
            if (resynced) { /* still outside recvWindow with the server's own clock */
                st = PA_EXCHANGE_UNAVAILABLE;
                goto cleanup;
            }
            resynced = 1;
            st = bn_sync_clock(t, bn_time_path(path));
            if (st != PA_EXCHANGE_OK)
                goto cleanup;
            continue;
        }
        if (http == 418) {
            /* Binance bans an address that kept calling after 429s: nobody
             * in this process calls it again before the ban ends. */
            long s = t->retry_after_s >= 0 ? t->retry_after_s : PA_BN_BAN_DEFAULT_S;
            t->out->retry_after_ms = (int64_t)s * 1000;
            pa_pace_ban(t->p->base_url, pa_now_ms() + t->out->retry_after_ms);
            pa_exchange_detail(t->out,
                               "binance: HTTP 418 on %s: the exchange has banned this enclave's "
                               "address for %ld s",
                               path, s);
            st = PA_EXCHANGE_BANNED;
            goto cleanup;
        }
        if (http == 451) {
            pa_exchange_detail(t->out,
                               "binance: HTTP 451 on %s: the exchange refuses service to the "
                               "region the enclave's requests come from",
                               path);
            st = PA_EXCHANGE_REGION_BLOCKED;
            goto cleanup;
        }
        if (!transient || retries >= PA_BN_MAX_RETRIES)
            goto cleanup;
        /* 429: as long as the exchange asks; else (5xx, network) backoff. */
        int64_t wait = http == 429 && t->retry_after_s >= 0 ? (int64_t)t->retry_after_s * 1000
                                                            : bn_backoff_ms(retries);
        /* every session of the process pauses with us after a 429 */
        if (http == 429)
            pa_pace_hold(t->p->base_url, pa_now_ms() + wait);
        if (wait > t->wait_left_ms)
            goto cleanup;
        bn_sleep_ms(wait);
        t->wait_left_ms -= wait;
        retries++;
    }
cleanup:
    if (st != PA_EXCHANGE_OK && retries > 0) {
        size_t n = strlen(t->out->detail);
        snprintf(t->out->detail + n, sizeof t->out->detail - n, " (after %d retries)", retries);
    }
    OPENSSL_cleanse(sig, sizeof sig);
    pa_buf_free(&query);
    pa_buf_free(&url);
    return st;
}
