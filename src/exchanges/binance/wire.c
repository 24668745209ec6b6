/* Binance's answers decoded (wire.h). Pure: no I/O, no globals. */
#include "wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope_format.h" /* pa_symbol_ok, the one symbol rule */
#include "json_strict.h"

_Static_assert(PA_SYMBOL_MAX_LEN < PA_SYMBOL_MAX, "a valid symbol must fit pa_fill.symbol");

/* Binance codes that mean "this key (or its signature) is not usable". */
static const long bn_key_codes[] = {-2015, -2014, -1022, -2008};

/* Ids and times: non-negative and at most 2^53, the largest integers that
 * survive JCS (every JSON number there is an IEEE double) exactly; this also
 * keeps `last id + 1` of the pager far from overflow. */
#define BN_MAX_SAFE_INT ((int64_t)1 << 53)

int pa_bn_symbol_ok(const char *s)
{
    return s != NULL && pa_symbol_ok(s, strlen(s));
}

int pa_bn_asset_ok(const char *s)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n >= PA_ASSET_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* Copies a name only when ok(name) (every valid name fits dst). */
static int copy_name(char *dst, size_t cap, const char *src, int (*ok)(const char *))
{
    if (!ok(src) || strlen(src) >= cap)
        return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* A Binance decimal string ("0.00100000") as a finite double; negative only
 * where allowed (a maker rebate can make a commission negative). */
static int parse_signed_decimal(const json_t *obj, const char *key, int allow_negative, double *out)
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

static int parse_decimal(const json_t *obj, const char *key, double *out)
{
    return parse_signed_decimal(obj, key, 0, out);
}

static int parse_int(const json_t *obj, const char *key, int64_t *out)
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

int pa_bn_decode_trade(const json_t *row, const pa_bn_market *mk, pa_fill *f)
{
    memset(f, 0, sizeof *f);
    PA_ENSURE(json_is_object(row) && mk != NULL);
    const char *sym = pa_json_str(row, "symbol");
    const json_t *buyer = json_object_get(row, "isBuyer");
    if (sym != NULL && strcmp(sym, mk->symbol) != 0)
        return -1;
    if (!json_is_boolean(buyer))
        return -1;
    PA_GUARD(parse_int(row, "id", &f->id));
    PA_GUARD(parse_int(row, "time", &f->time_ms));
    /* Exact decimals: money is never a binary double (docs/METRICS.md). */
    PA_GUARD(pa_fill_set_amounts(f, pa_json_str(row, "price"), pa_json_str(row, "qty"),
                                 pa_json_str(row, "quoteQty"), pa_json_str(row, "commission")));
    PA_GUARD(copy_name(f->commission_asset, sizeof f->commission_asset,
                       pa_json_str(row, "commissionAsset"), pa_bn_asset_ok));
    memcpy(f->symbol, mk->symbol, sizeof f->symbol);
    memcpy(f->base, mk->base, sizeof f->base);
    memcpy(f->quote, mk->quote, sizeof f->quote);
    f->is_buyer = json_is_true(buyer);
    return 0;
}

static int cmp_market(const void *a, const void *b)
{
    return strcmp(((const pa_bn_market *)a)->symbol, ((const pa_bn_market *)b)->symbol);
}

int pa_bn_decode_exchange_info(const json_t *doc, pa_bn_markets *m, char *why, size_t why_cap)
{
    memset(m, 0, sizeof *m);
    const json_t *arr = json_object_get(doc, "symbols");
    if (!json_is_array(arr)) {
        snprintf(why, why_cap, "/api/v3/exchangeInfo answered without a symbols array");
        return -1;
    }
    size_t n = json_array_size(arr);
    m->v = calloc(n ? n : 1, sizeof *m->v);
    if (m->v == NULL) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    m->listed = n;
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s)
    {
        pa_bn_market *mk = &m->v[m->len];
        const char *status = pa_json_str(s, "status");
        /* Names outside the rules can be neither requested nor reported: skip them. */
        if (copy_name(mk->symbol, sizeof mk->symbol, pa_json_str(s, "symbol"), pa_bn_symbol_ok) !=
                0 ||
            copy_name(mk->base, sizeof mk->base, pa_json_str(s, "baseAsset"), pa_bn_asset_ok) !=
                0 ||
            copy_name(mk->quote, sizeof mk->quote, pa_json_str(s, "quoteAsset"), pa_bn_asset_ok) !=
                0) {
            memset(mk, 0, sizeof *mk);
            continue;
        }
        mk->trading = status != NULL && strcmp(status, "TRADING") == 0;
        m->len++;
    }
    qsort(m->v, m->len, sizeof *m->v, cmp_market);
    for (size_t k = 1; k < m->len; k++) {
        if (strcmp(m->v[k - 1].symbol, m->v[k].symbol) == 0) {
            snprintf(why, why_cap, "/api/v3/exchangeInfo lists %s twice", m->v[k].symbol);
            pa_bn_markets_free(m);
            return -1;
        }
    }
    return 0;
}

void pa_bn_markets_free(pa_bn_markets *m)
{
    if (m == NULL)
        return;
    free(m->v);
    memset(m, 0, sizeof *m);
}

const pa_bn_market *pa_bn_find_market(const pa_bn_markets *m, const char *symbol)
{
    pa_bn_market key;
    memset(&key, 0, sizeof key);
    size_t n = strlen(symbol);
    if (n >= sizeof key.symbol || m->len == 0)
        return NULL;
    memcpy(key.symbol, symbol, n + 1);
    return bsearch(&key, m->v, m->len, sizeof *m->v, cmp_market);
}

static int cmp_asset(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int pa_bn_decode_account(const json_t *doc, pa_bn_assets *a, char *why, size_t why_cap)
{
    memset(a, 0, sizeof *a);
    const json_t *arr = json_object_get(doc, "balances");
    if (!json_is_array(arr)) {
        snprintf(why, why_cap, "/api/v3/account answered without a balances array");
        return -1;
    }
    a->v = calloc(json_array_size(arr) + 1, sizeof *a->v);
    if (a->v == NULL) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    size_t i;
    const json_t *b;
    json_array_foreach(arr, i, b)
    {
        double free_amt = 0, locked = 0;
        if (pa_json_str(b, "asset") == NULL || parse_decimal(b, "free", &free_amt) != 0 ||
            parse_decimal(b, "locked", &locked) != 0) {
            snprintf(why, why_cap, "/api/v3/account has a malformed balance");
            pa_bn_assets_free(a);
            return -1;
        }
        if (free_amt + locked <= 0)
            continue;
        a->nonzero++;
        /* An asset with an unusual name cannot be part of a symbol we request. */
        if (copy_name(a->v[a->len], PA_ASSET_MAX, pa_json_str(b, "asset"), pa_bn_asset_ok) == 0)
            a->len++;
    }
    qsort(a->v, a->len, sizeof *a->v, cmp_asset);
    return 0;
}

void pa_bn_assets_free(pa_bn_assets *a)
{
    if (a == NULL)
        return;
    free(a->v);
    memset(a, 0, sizeof *a);
}

int pa_bn_has_asset(const pa_bn_assets *a, const char *asset)
{
    char key[PA_ASSET_MAX] = {0};
    size_t n = strlen(asset);
    if (n >= sizeof key || a->len == 0)
        return 0;
    memcpy(key, asset, n + 1);
    return bsearch(key, a->v, a->len, sizeof *a->v, cmp_asset) != NULL;
}

int pa_bn_decode_server_time(const json_t *doc, int64_t *ms)
{
    int64_t v = 0;
    PA_GUARD(parse_int(doc, "serverTime", &v));
    PA_ENSURE(v > 0);
    *ms = v;
    return 0;
}

int pa_bn_decode_error(const json_t *doc, long *code, const char **msg)
{
    const json_t *jc = json_object_get(doc, "code");
    *code = 0;
    *msg = NULL;
    if (!json_is_integer(jc))
        return -1;
    *code = (long)json_integer_value(jc);
    *msg = pa_json_str(doc, "msg");
    return 0;
}

pa_exchange_status pa_bn_error_status(long http, long code)
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
