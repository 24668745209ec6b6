/* Binance spot connector: exchangeInfo, account and myTrades over one reused
 * libcurl easy handle. See docs/BINANCE.md for the calls it makes and how
 * their failures map onto pa_exchange_status.
 *
 * Secrets: the API key lives only in the header string (a wiped pa_buf, and
 * curl's own copy, which the enclave's wiping allocators clear); the secret only
 * in HMAC's input; every query string that carried a signature is wiped. Nothing
 * secret ever reaches `detail`, a log line or an audit entry. */
#include "binance.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codec.h"
#include "json_strict.h"

#define BN_BODY_CAP (8u << 20)           /* account, myTrades, time, errors */
#define BN_EXCHANGE_INFO_CAP (32u << 20) /* the full symbol list is several MB */
#define BN_PAGE_LIMIT 1000               /* myTrades' documented maximum */
#define BN_MAX_PAGES 200                 /* myTrades pages per run */
#define BN_RECV_WINDOW_MS 5000
#define BN_DEFAULT_TIMEOUT_MS 15000L
#define BN_URL_CAP 16384
#define BN_BASE_URL_MAX 512
#define BN_KEY_MAX 512
#define BN_MSG_MAX 100 /* exchange error text copied into detail */
/* Past this length the symbols=[...] filter of exchangeInfo could make the URL
 * longer than front-end proxies accept; the full list is fetched instead. */
#define BN_SYMBOLS_PARAM_MAX 4000

/* The usual quote assets, for deriving symbols from balances. */
static const char *const bn_quotes[] = {"USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB"};

/* Binance codes that mean "this key (or its signature) is not usable". */
static const long bn_key_codes[] = {-2015, -2014, -1022, -2008};

typedef struct {
    char symbol[PA_SYMBOL_MAX];
    char base[PA_ASSET_MAX];
    char quote[PA_ASSET_MAX];
    int trading; /* status == "TRADING" */
} bn_market;

typedef struct {
    bn_market *v;
    size_t len;
} bn_markets;

typedef struct {
    const pa_binance_params *p;
    pa_binance_result *out;
    pa_audit_log *audit;
    CURL *curl;
    struct curl_slist *headers;
    pa_buf body;
    size_t body_limit;
    int body_overflow;
    int64_t clock_offset_ms; /* server time - local time, after a -1021 */
    unsigned pages;           /* myTrades pages fetched so far */
} bn_ctx;

/* ---- small helpers ------------------------------------------------------- */

static void bn_detail(bn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bn_detail(bn_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->out->detail, sizeof c->out->detail, fmt, ap);
    va_end(ap);
}

static int64_t bn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Symbols and assets we put into a query string or a fill: A-Z and 0-9 only,
 * so nothing needs escaping and nothing can smuggle another parameter in. */
static int bn_valid_name(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n + 1 >= max)
            return 0;
        char ch = s[n];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return 0;
    }
    return n > 0;
}

/* Copies a name only when it is valid and fits dst. */
static int bn_copy_name(char *dst, size_t cap, const char *src)
{
    if (src == NULL || !bn_valid_name(src, cap))
        return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* A Binance decimal string ("0.00100000") as a finite double; negative only
 * where allowed (a maker rebate can make a commission negative). */
static int bn_parse_signed_decimal(const json_t *obj, const char *key, int allow_negative,
                                   double *out)
{
    const char *s = pa_json_str(obj, key);
    if (s == NULL || strlen(s) > 64)
        return -1;
    const char *digits = (allow_negative && s[0] == '-') ? s + 1 : s;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    for (const char *q = digits; *q != '\0'; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.'))
            return -1; /* no exponent, "inf" or "nan", hex or spaces: Binance never sends them */
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == NULL || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int bn_parse_decimal(const json_t *obj, const char *key, double *out)
{
    return bn_parse_signed_decimal(obj, key, 0, out);
}

/* Ids and times: non-negative and at most 2^53, the largest integers that
 * survive JCS (every JSON number there is an IEEE double) exactly; this also
 * keeps `last id + 1` of the pager far from overflow. */
#define BN_MAX_SAFE_INT ((int64_t)1 << 53)

static int bn_parse_int(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > BN_MAX_SAFE_INT)
        return -1;
    *out = (int64_t)n;
    return 0;
}

static int bn_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int bn_cmp_market(const void *a, const void *b)
{
    return strcmp(((const bn_market *)a)->symbol, ((const bn_market *)b)->symbol);
}

static int bn_cmp_fill(const void *a, const void *b)
{
    const pa_fill *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    return (x->id > y->id) - (x->id < y->id);
}

static const bn_market *bn_find_market(const bn_markets *m, const char *symbol)
{
    bn_market key;
    memset(&key, 0, sizeof key);
    size_t n = strlen(symbol);
    if (n >= sizeof key.symbol)
        return NULL;
    memcpy(key.symbol, symbol, n + 1);
    return bsearch(&key, m->v, m->len, sizeof *m->v, bn_cmp_market);
}

static int bn_is_quote(const char *asset)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(bn_quotes); i++)
        if (strcmp(bn_quotes[i], asset) == 0)
            return 1;
    return 0;
}

/* ---- signing ------------------------------------------------------------- */

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

/* ---- HTTP ---------------------------------------------------------------- */

static size_t bn_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    bn_ctx *c = userdata;
    size_t n = size * nmemb;
    if (c->body.len + n > c->body_limit || pa_buf_append(&c->body, data, n) != 0) {
        c->body_overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

/* Printable ASCII of an exchange error message, shortened; and withheld
 * entirely should a (misbehaving) server ever echo the key or the secret. */
static void bn_safe_msg(const bn_ctx *c, const char *msg, char *out, size_t cap)
{
    size_t n = 0;
    if (msg != NULL && strstr(msg, c->p->api_key) == NULL &&
        strstr(msg, c->p->api_secret) == NULL) {
        for (; msg[n] != '\0' && n + 1 < cap && n < BN_MSG_MAX; n++)
            out[n] = (char)((msg[n] >= 0x20 && msg[n] < 0x7f) ? msg[n] : '?');
    }
    out[n] = '\0';
}

static pa_exchange_status bn_map_error(long http, long code)
{
    if (http == 401 || http == 403)
        return PA_EXCHANGE_REJECTED_KEY;
    for (size_t i = 0; i < PA_ARRAY_LEN(bn_key_codes); i++)
        if (code == bn_key_codes[i])
            return PA_EXCHANGE_REJECTED_KEY;
    if (http == 429 || http == 418 || http >= 500)
        return PA_EXCHANGE_UNAVAILABLE;
    return PA_EXCHANGE_BAD_RESPONSE;
}

/* One GET. On HTTP 200, *out is the parsed body. Otherwise *code is Binance's
 * error code (0 when the body had none) and detail describes the failure. */
static pa_exchange_status bn_perform(bn_ctx *c, const char *path, const pa_buf *url,
                                     size_t limit, json_t **out, long *code)
{
    *out = NULL;
    *code = 0;
    pa_buf_reset(&c->body);
    c->body_limit = limit;
    c->body_overflow = 0;
    if (curl_easy_setopt(c->curl, CURLOPT_URL, pa_buf_cstr(url)) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)limit) != CURLE_OK) {
        bn_detail(c, "binance: could not prepare the request to %s", path);
        return PA_EXCHANGE_UNAVAILABLE;
    }
    CURLcode cc = curl_easy_perform(c->curl);
    if (c->body_overflow || cc == CURLE_FILESIZE_EXCEEDED) {
        bn_detail(c, "binance: %s answered more than %zu bytes", path, limit);
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    if (cc != CURLE_OK) {
        /* curl_easy_strerror is a fixed text: it never holds the URL. */
        bn_detail(c, "binance: %s: %s", path, curl_easy_strerror(cc));
        return PA_EXCHANGE_UNAVAILABLE;
    }
    long http = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &http);
    json_t *doc = pa_json_parse((const char *)c->body.data, c->body.len, limit);
    if (http == 200) {
        if (doc == NULL) {
            bn_detail(c, "binance: %s answered something that is not JSON", path);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        *out = doc;
        return PA_EXCHANGE_OK;
    }
    const json_t *jc = json_object_get(doc, "code");
    char msg[BN_MSG_MAX + 1];
    bn_safe_msg(c, pa_json_str(doc, "msg"), msg, sizeof msg);
    if (json_is_integer(jc)) {
        *code = (long)json_integer_value(jc);
        bn_detail(c, "binance: HTTP %ld on %s: %ld %s", http, path, *code, msg);
    } else {
        bn_detail(c, "binance: HTTP %ld on %s", http, path);
    }
    json_decref(doc);
    return bn_map_error(http, *code);
}

/* GET /api/v3/time: the server's clock, to timestamp signed calls after a
 * -1021. Offsetting from the *end* of the call keeps our timestamps at or
 * behind the server's clock: Binance refuses one more than 1 s ahead, but
 * accepts one up to recvWindow behind. */
static pa_exchange_status bn_sync_clock(bn_ctx *c)
{
    pa_buf url;
    pa_buf_init(&url, BN_URL_CAP);
    json_t *doc = NULL;
    long code = 0;
    pa_exchange_status st = PA_EXCHANGE_UNAVAILABLE;
    if (pa_buf_printf(&url, "%s/api/v3/time", c->p->base_url) != 0) {
        bn_detail(c, "binance: URL too long");
        goto cleanup;
    }
    st = bn_perform(c, "/api/v3/time", &url, BN_BODY_CAP, &doc, &code);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    int64_t local = bn_now_ms();
    int64_t server = 0;
    if (bn_parse_int(doc, "serverTime", &server) != 0 || server <= 0) {
        bn_detail(c, "binance: /api/v3/time answered without serverTime");
        st = PA_EXCHANGE_BAD_RESPONSE;
        goto cleanup;
    }
    c->clock_offset_ms = server - local;
cleanup:
    json_decref(doc);
    pa_buf_free(&url);
    return st;
}

/* A GET on path with params ("" for none). Signed calls get recvWindow,
 * timestamp and signature appended, and after a -1021 one retry with the
 * server's clock. */
static pa_exchange_status bn_get(bn_ctx *c, const char *path, const char *params, int is_signed,
                                 size_t limit, json_t **out)
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
                                 bn_now_ms() + c->clock_offset_ms);
            bad |= pa_binance_sign(c->p->api_secret, pa_buf_cstr(&query), sig);
            bad |= pa_buf_printf(&query, "&signature=%s", sig);
        }
        bad |= pa_buf_printf(&url, "%s%s%s%s", c->p->base_url, path,
                             query.len > 0 ? "?" : "", pa_buf_cstr(&query));
        if (bad != 0) {
            bn_detail(c, "binance: could not build the request to %s", path);
            st = PA_EXCHANGE_BAD_RESPONSE;
            goto cleanup;
        }
        long code = 0;
        st = bn_perform(c, path, &url, limit, out, &code);
        if (st == PA_EXCHANGE_OK || !is_signed || code != -1021)
            goto cleanup;
        if (attempt == 1) { /* still outside recvWindow with the server's own clock */
            st = PA_EXCHANGE_UNAVAILABLE;
            goto cleanup;
        }
        st = bn_sync_clock(c);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
cleanup:
    OPENSSL_cleanse(sig, sizeof sig);
    pa_buf_free(&query);
    pa_buf_free(&url);
    return st;
}

/* ---- audit --------------------------------------------------------------- */

static pa_exchange_status bn_audit(bn_ctx *c, const char *endpoint, const char *symbol,
                                   unsigned page, size_t count, const int64_t *first_id,
                                   const int64_t *last_id)
{
    json_t *e = json_object();
    int bad = e == NULL;
    if (!bad) {
        bad |= json_object_set_new(e, "type", json_string("fetch"));
        bad |= json_object_set_new(e, "endpoint", json_string(endpoint));
        bad |= json_object_set_new(e, "symbol", symbol ? json_string(symbol) : json_null());
        bad |= json_object_set_new(e, "page", json_integer((json_int_t)page));
        bad |= json_object_set_new(e, "count", json_integer((json_int_t)count));
        bad |= json_object_set_new(e, "first_id",
                                   first_id ? json_integer((json_int_t)*first_id) : json_null());
        bad |= json_object_set_new(e, "last_id",
                                   last_id ? json_integer((json_int_t)*last_id) : json_null());
    }
    if (!bad)
        bad = pa_audit_append(c->audit, e) != 0;
    json_decref(e);
    if (bad) {
        bn_detail(c, "binance: the audit log is full");
        return PA_EXCHANGE_TOO_LARGE;
    }
    return PA_EXCHANGE_OK;
}

/* ---- exchangeInfo -------------------------------------------------------- */

/* Query for exchangeInfo: only the client's symbols when they fit a URL.
 * showPermissionSets=false drops the bulk of the full answer. */
static int bn_info_params(const pa_binance_params *p, pa_buf *q)
{
    if (p->symbols != NULL) {
        size_t need = 0;
        for (size_t i = 0; i < p->nsymbols; i++)
            need += strlen(p->symbols[i]) + 7;
        if (need < BN_SYMBOLS_PARAM_MAX) {
            PA_GUARD(pa_buf_append_str(q, "symbols=%5B"));
            const char *sep = "";
            for (size_t i = 0; i < p->nsymbols; i++) {
                int seen = 0;
                for (size_t k = 0; k < i; k++)
                    seen |= strcmp(p->symbols[k], p->symbols[i]) == 0;
                if (seen)
                    continue;
                PA_GUARD(pa_buf_printf(q, "%s%%22%s%%22", sep, p->symbols[i]));
                sep = ",";
            }
            PA_GUARD(pa_buf_append_str(q, "%5D&"));
        }
    }
    return pa_buf_append_str(q, "showPermissionSets=false");
}

static pa_exchange_status bn_exchange_info(bn_ctx *c, bn_markets *m)
{
    pa_buf q;
    pa_buf_init(&q, BN_URL_CAP);
    json_t *doc = NULL;
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;
    if (bn_info_params(c->p, &q) != 0) {
        bn_detail(c, "binance: could not build the exchangeInfo request");
        goto cleanup;
    }
    st = bn_get(c, "/api/v3/exchangeInfo", pa_buf_cstr(&q), 0, BN_EXCHANGE_INFO_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    st = PA_EXCHANGE_BAD_RESPONSE;
    const json_t *arr = json_object_get(doc, "symbols");
    if (!json_is_array(arr)) {
        bn_detail(c, "binance: /api/v3/exchangeInfo answered without a symbols array");
        goto cleanup;
    }
    size_t n = json_array_size(arr);
    m->v = calloc(n ? n : 1, sizeof *m->v);
    if (m->v == NULL) {
        bn_detail(c, "binance: out of memory");
        goto cleanup;
    }
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s) {
        bn_market *mk = &m->v[m->len];
        const char *status = pa_json_str(s, "status");
        /* Names outside A-Z0-9 can be neither requested nor reported: skip them. */
        if (bn_copy_name(mk->symbol, sizeof mk->symbol, pa_json_str(s, "symbol")) != 0 ||
            bn_copy_name(mk->base, sizeof mk->base, pa_json_str(s, "baseAsset")) != 0 ||
            bn_copy_name(mk->quote, sizeof mk->quote, pa_json_str(s, "quoteAsset")) != 0)
            continue;
        mk->trading = status != NULL && strcmp(status, "TRADING") == 0;
        m->len++;
    }
    qsort(m->v, m->len, sizeof *m->v, bn_cmp_market);
    for (size_t k = 1; k < m->len; k++) {
        if (strcmp(m->v[k - 1].symbol, m->v[k].symbol) == 0) {
            bn_detail(c, "binance: /api/v3/exchangeInfo lists %s twice", m->v[k].symbol);
            goto cleanup;
        }
    }
    st = bn_audit(c, "/api/v3/exchangeInfo", NULL, 1, n, NULL, NULL);
cleanup:
    json_decref(doc);
    pa_buf_free(&q);
    return st;
}

/* ---- symbols ------------------------------------------------------------- */

static pa_exchange_status bn_push_symbol(bn_ctx *c, const char *s, size_t *cap)
{
    pa_binance_result *r = c->out;
    if (r->nsymbols >= BN_MAX_PAGES) {
        bn_detail(c, "binance: more than %d symbols to fetch", BN_MAX_PAGES);
        return PA_EXCHANGE_TOO_LARGE;
    }
    if (r->nsymbols == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        char **v = realloc(r->symbols, ncap * sizeof *v);
        if (v == NULL)
            goto oom;
        r->symbols = v;
        *cap = ncap;
    }
    r->symbols[r->nsymbols] = strdup(s);
    if (r->symbols[r->nsymbols] == NULL)
        goto oom;
    r->nsymbols++;
    return PA_EXCHANGE_OK;
oom:
    bn_detail(c, "binance: out of memory");
    return PA_EXCHANGE_BAD_RESPONSE;
}

/* Sorted and de-duplicated, so scope.symbols does not depend on input order. */
static void bn_sort_symbols(pa_binance_result *r)
{
    if (r->nsymbols == 0)
        return;
    qsort(r->symbols, r->nsymbols, sizeof *r->symbols, bn_cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < r->nsymbols; i++) {
        if (strcmp(r->symbols[w - 1], r->symbols[i]) == 0)
            free(r->symbols[i]);
        else
            r->symbols[w++] = r->symbols[i];
    }
    r->nsymbols = w;
}

static pa_exchange_status bn_client_symbols(bn_ctx *c, const bn_markets *m)
{
    size_t cap = 0;
    for (size_t i = 0; i < c->p->nsymbols; i++) {
        const char *s = c->p->symbols[i];
        if (bn_find_market(m, s) == NULL) {
            bn_detail(c, "binance: symbol %s is not listed in /api/v3/exchangeInfo", s);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        pa_exchange_status st = bn_push_symbol(c, s, &cap);
        if (st != PA_EXCHANGE_OK)
            return st;
    }
    bn_sort_symbols(c->out);
    c->out->symbol_source = "client";
    return PA_EXCHANGE_OK;
}

typedef struct {
    char (*v)[PA_ASSET_MAX];
    size_t len;
} bn_assets;

static int bn_cmp_asset(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int bn_has_asset(const bn_assets *a, const char *asset)
{
    char key[PA_ASSET_MAX] = {0};
    size_t n = strlen(asset);
    if (n >= sizeof key)
        return 0;
    memcpy(key, asset, n + 1);
    return bsearch(key, a->v, a->len, sizeof *a->v, bn_cmp_asset) != NULL;
}

/* GET /api/v3/account: the assets with free + locked > 0. */
static pa_exchange_status bn_account(bn_ctx *c, bn_assets *a)
{
    json_t *doc = NULL;
    pa_exchange_status st = bn_get(c, "/api/v3/account", "", 1, BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    st = PA_EXCHANGE_BAD_RESPONSE;
    const json_t *arr = json_object_get(doc, "balances");
    if (!json_is_array(arr)) {
        bn_detail(c, "binance: /api/v3/account answered without a balances array");
        goto cleanup;
    }
    a->v = calloc(json_array_size(arr) + 1, sizeof *a->v);
    if (a->v == NULL) {
        bn_detail(c, "binance: out of memory");
        goto cleanup;
    }
    size_t nonzero = 0, i;
    const json_t *b;
    json_array_foreach(arr, i, b) {
        double free_amt = 0, locked = 0;
        if (pa_json_str(b, "asset") == NULL || bn_parse_decimal(b, "free", &free_amt) != 0 ||
            bn_parse_decimal(b, "locked", &locked) != 0) {
            bn_detail(c, "binance: /api/v3/account has a malformed balance");
            goto cleanup;
        }
        if (free_amt + locked <= 0)
            continue;
        nonzero++;
        /* An asset with an unusual name cannot be part of a symbol we request. */
        if (bn_copy_name(a->v[a->len], PA_ASSET_MAX, pa_json_str(b, "asset")) == 0)
            a->len++;
    }
    qsort(a->v, a->len, sizeof *a->v, bn_cmp_asset);
    st = bn_audit(c, "/api/v3/account", NULL, 1, nonzero, NULL, NULL);
cleanup:
    json_decref(doc);
    return st;
}

/* Every TRADING symbol pairing a held asset with a usual quote asset, in
 * either direction (holding USDT finds BTCUSDT; holding BTC finds BTCUSDT,
 * ETHBTC and BNBBTC). */
static pa_exchange_status bn_balance_symbols(bn_ctx *c, const bn_markets *m, const bn_assets *a)
{
    size_t cap = 0;
    for (size_t i = 0; i < m->len; i++) {
        const bn_market *mk = &m->v[i];
        if (!mk->trading)
            continue;
        if ((bn_has_asset(a, mk->base) && bn_is_quote(mk->quote)) ||
            (bn_has_asset(a, mk->quote) && bn_is_quote(mk->base))) {
            pa_exchange_status st = bn_push_symbol(c, mk->symbol, &cap);
            if (st != PA_EXCHANGE_OK)
                return st;
        }
    }
    bn_sort_symbols(c->out);
    c->out->symbol_source = "balances";
    return PA_EXCHANGE_OK;
}

/* ---- myTrades ------------------------------------------------------------ */

static int bn_parse_fill(const json_t *row, const bn_market *mk, pa_fill *f)
{
    memset(f, 0, sizeof *f);
    const char *sym = pa_json_str(row, "symbol");
    const json_t *buyer = json_object_get(row, "isBuyer");
    if (sym != NULL && strcmp(sym, mk->symbol) != 0)
        return -1;
    if (!json_is_boolean(buyer))
        return -1;
    PA_GUARD(bn_parse_int(row, "id", &f->id));
    PA_GUARD(bn_parse_int(row, "time", &f->time_ms));
    /* Exact decimals: money is never a binary double (docs/METRICS.md). */
    PA_GUARD(pa_fill_set_amounts(f, pa_json_str(row, "price"), pa_json_str(row, "qty"),
                                 pa_json_str(row, "quoteQty"), pa_json_str(row, "commission")));
    PA_GUARD(bn_copy_name(f->commission_asset, sizeof f->commission_asset,
                          pa_json_str(row, "commissionAsset")));
    PA_ENSURE(f->id >= 0 && f->time_ms >= 0);
    memcpy(f->symbol, mk->symbol, sizeof f->symbol);
    memcpy(f->base, mk->base, sizeof f->base);
    memcpy(f->quote, mk->quote, sizeof f->quote);
    f->is_buyer = json_is_true(buyer);
    return 0;
}

/* Pages through one symbol's trades by fromId until a short page. */
static pa_exchange_status bn_symbol_trades(bn_ctx *c, const bn_market *mk)
{
    int64_t from_id = 0;
    pa_exchange_status st = PA_EXCHANGE_OK;
    char params[96];
    for (unsigned page = 1;; page++) {
        if (c->pages >= BN_MAX_PAGES) {
            bn_detail(c, "binance: more than %d pages of trades", BN_MAX_PAGES);
            return PA_EXCHANGE_TOO_LARGE;
        }
        snprintf(params, sizeof params, "symbol=%s&fromId=%" PRId64 "&limit=%d", mk->symbol,
                 from_id, BN_PAGE_LIMIT);
        json_t *doc = NULL;
        st = bn_get(c, "/api/v3/myTrades", params, 1, BN_BODY_CAP, &doc);
        if (st != PA_EXCHANGE_OK)
            return st;
        c->pages++;
        size_t n = json_array_size(doc);
        int64_t first = 0, last = 0, max_id = -1;
        st = PA_EXCHANGE_BAD_RESPONSE;
        if (!json_is_array(doc) || n > BN_PAGE_LIMIT) {
            bn_detail(c, "binance: /api/v3/myTrades for %s is not a list of at most %d trades",
                      mk->symbol, BN_PAGE_LIMIT);
            goto page_done;
        }
        size_t i;
        const json_t *row;
        json_array_foreach(doc, i, row) {
            pa_fill f;
            if (bn_parse_fill(row, mk, &f) != 0) {
                bn_detail(c, "binance: /api/v3/myTrades for %s has a malformed trade",
                          mk->symbol);
                goto page_done;
            }
            if (c->out->fills.len >= PA_FILLS_MAX) {
                bn_detail(c, "binance: more than %d trades", PA_FILLS_MAX);
                st = PA_EXCHANGE_TOO_LARGE;
                goto page_done;
            }
            if (pa_fill_list_push(&c->out->fills, &f) != 0) {
                bn_detail(c, "binance: out of memory");
                goto page_done;
            }
            if (i == 0)
                first = f.id;
            last = f.id;
            if (f.id > max_id)
                max_id = f.id;
        }
        /* A full page that does not move past fromId would page forever. */
        if (n == BN_PAGE_LIMIT && max_id < from_id) {
            bn_detail(c, "binance: /api/v3/myTrades for %s did not advance past fromId",
                      mk->symbol);
            goto page_done;
        }
        st = bn_audit(c, "/api/v3/myTrades", mk->symbol, page, n, n ? &first : NULL,
                      n ? &last : NULL);
    page_done:
        json_decref(doc);
        if (st != PA_EXCHANGE_OK || n < BN_PAGE_LIMIT)
            return st;
        from_id = max_id + 1;
    }
}

/* Sorted by (symbol, id) — per symbol that is execution order — keeping the
 * first of any repeated (symbol, id). */
static void bn_dedup_fills(pa_fill_list *l)
{
    if (l->len == 0)
        return;
    qsort(l->v, l->len, sizeof *l->v, bn_cmp_fill);
    size_t w = 1;
    for (size_t i = 1; i < l->len; i++) {
        if (bn_cmp_fill(&l->v[w - 1], &l->v[i]) != 0) {
            if (w != i)
                l->v[w] = l->v[i];
            w++;
        }
    }
    l->len = w;
}

/* ---- entry point --------------------------------------------------------- */

static int bn_valid_base_url(const char *u)
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

/* A header value: printable ASCII without spaces, so no header injection. */
static int bn_valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > BN_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] <= 0x20 || k[i] >= 0x7f)
            return 0;
    return 1;
}

static int bn_curl_setup(bn_ctx *c, pa_buf *hdr)
{
    long timeout = c->p->timeout_ms > 0 ? c->p->timeout_ms : BN_DEFAULT_TIMEOUT_MS;
    c->curl = curl_easy_init();
    PA_ENSURE(c->curl != NULL);
    PA_GUARD(pa_buf_printf(hdr, "X-MBX-APIKEY: %s", c->p->api_key));
    c->headers = curl_slist_append(NULL, pa_buf_cstr(hdr));
    PA_ENSURE(c->headers != NULL);
    struct curl_slist *h = curl_slist_append(c->headers, "Accept: application/json");
    PA_ENSURE(h != NULL);
    c->headers = h;
    CURL *e = c->curl;
    int bad = 0;
    /* The key header goes with every call, unsigned ones included, as Binance's
     * own clients do; on the same TLS connection that reveals nothing more. */
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, bn_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    /* Protocols, redirects (none), TLS trust and the relay: egress.c. */
    bad |= pa_egress_curl_setup(e, c->p->egress) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "perfagg-enclave/1") != CURLE_OK;
    return bad ? -1 : 0;
}

pa_exchange_status pa_binance_fetch(const pa_binance_params *p, pa_audit_log *audit,
                                    pa_binance_result *out)
{
    if (out == NULL)
        return PA_EXCHANGE_BAD_RESPONSE;
    memset(out, 0, sizeof *out);
    pa_fill_list_init(&out->fills);
    bn_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.out = out;
    c.audit = audit;
    pa_buf_init(&c.body, BN_EXCHANGE_INFO_CAP);
    pa_buf hdr;
    pa_buf_init(&hdr, BN_KEY_MAX + 64);
    bn_markets markets = {0};
    bn_assets assets = {0};
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;

    if (p == NULL || audit == NULL || p->base_url == NULL || p->api_key == NULL ||
        p->api_secret == NULL || (p->symbols == NULL && p->nsymbols != 0)) {
        bn_detail(&c, "binance: missing parameters");
        goto cleanup;
    }
    if (!bn_valid_base_url(p->base_url)) {
        bn_detail(&c, "binance: the exchange URL is not an http(s) URL without a trailing slash");
        goto cleanup;
    }
    if (!bn_valid_key(p->api_key) || p->api_secret[0] == '\0') {
        bn_detail(&c, "binance: the API key or secret is empty or has invalid characters");
        st = PA_EXCHANGE_REJECTED_KEY;
        goto cleanup;
    }
    if (p->symbols != NULL) {
        if (p->nsymbols == 0) {
            bn_detail(&c, "binance: an empty symbol list");
            goto cleanup;
        }
        if (p->nsymbols > BN_MAX_PAGES) {
            bn_detail(&c, "binance: more than %d symbols to fetch", BN_MAX_PAGES);
            st = PA_EXCHANGE_TOO_LARGE;
            goto cleanup;
        }
        for (size_t i = 0; i < p->nsymbols; i++) {
            if (p->symbols[i] == NULL || !bn_valid_name(p->symbols[i], PA_SYMBOL_MAX)) {
                bn_detail(&c, "binance: symbols must be 1-%d characters A-Z and 0-9",
                          PA_SYMBOL_MAX - 1);
                goto cleanup;
            }
        }
    }
    if (bn_curl_setup(&c, &hdr) != 0) {
        bn_detail(&c, "binance: could not set up the HTTP client");
        st = PA_EXCHANGE_UNAVAILABLE;
        goto cleanup;
    }

    /* With derived symbols the signed account call comes first: a key that
     * does not work fails before the (large) exchangeInfo download. */
    if (p->symbols == NULL) {
        st = bn_account(&c, &assets);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
    st = bn_exchange_info(&c, &markets);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    st = p->symbols != NULL ? bn_client_symbols(&c, &markets)
                            : bn_balance_symbols(&c, &markets, &assets);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    for (size_t i = 0; i < out->nsymbols; i++) {
        const bn_market *mk = bn_find_market(&markets, out->symbols[i]);
        if (mk == NULL) { /* cannot happen: every symbol came from markets */
            bn_detail(&c, "binance: internal symbol mismatch");
            st = PA_EXCHANGE_BAD_RESPONSE;
            goto cleanup;
        }
        st = bn_symbol_trades(&c, mk);
        if (st != PA_EXCHANGE_OK)
            goto cleanup;
    }
    bn_dedup_fills(&out->fills);
    out->detail[0] = '\0';
    st = PA_EXCHANGE_OK;

cleanup:
    if (c.curl != NULL)
        curl_easy_cleanup(c.curl);
    curl_slist_free_all(c.headers);
    pa_buf_free(&hdr);
    pa_buf_free(&c.body);
    free(markets.v);
    free(assets.v);
    if (st != PA_EXCHANGE_OK) {
        char detail[sizeof out->detail];
        memcpy(detail, out->detail, sizeof detail);
        pa_binance_result_free(out);
        memcpy(out->detail, detail, sizeof detail);
    }
    return st;
}

void pa_binance_result_free(pa_binance_result *r)
{
    if (r == NULL)
        return;
    pa_fill_list_free(&r->fills);
    for (size_t i = 0; i < r->nsymbols; i++)
        free(r->symbols[i]);
    free(r->symbols);
    memset(r, 0, sizeof *r);
}
