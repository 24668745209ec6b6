/* Prices, snapshots and flows decoded (values_wire.h). Pure: no I/O, no globals. */
#include "values_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */
#include "json_strict.h"
#include "timeutil.h"
#include "wire.h"

/* Times as JSON integers in [0, 2^53] (wire.c's rule). */
#define BN_MAX_SAFE_INT ((int64_t)1 << 53)
/* A bound on one snapshot answer: Binance returns at most 30 days, and an
 * account holds at most a few thousand assets. */
#define BN_HOLDINGS_MAX 200000

static int time_of(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > BN_MAX_SAFE_INT)
        return -1;
    *out = (int64_t)n;
    return 0;
}

static int amount_of(const json_t *v, unsigned flags, pa_dec *out)
{
    return json_is_string(v) ? pa_dec_parse_str(json_string_value(v), flags, out) : -1;
}

static int asset_of(const json_t *obj, const char *key, char out[PA_ASSET_MAX])
{
    const char *s = pa_json_str(obj, key);
    if (!pa_bn_asset_ok(s))
        return -1;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

int pa_bn_decode_kline(const json_t *row, pa_bn_kline *k)
{
    memset(k, 0, sizeof *k);
    PA_ENSURE(json_is_array(row) && json_array_size(row) >= 5);
    PA_GUARD(time_of(json_array_get(row, 0), &k->open_ms));
    PA_GUARD(amount_of(json_array_get(row, 1), 0, &k->open));
    PA_GUARD(amount_of(json_array_get(row, 4), 0, &k->close));
    return 0;
}

/* ---- account snapshots ---------------------------------------------------- */

static int push_holding(pa_bn_snapshots *s, size_t *cap, const pa_bn_holding *h)
{
    if (s->len == *cap) {
        PA_ENSURE(*cap < BN_HOLDINGS_MAX);
        size_t ncap = *cap ? *cap * 2 : 64;
        pa_bn_holding *nv = malloc(ncap * sizeof *nv);
        PA_ENSURE(nv != NULL);
        if (s->len > 0)
            memcpy(nv, s->v, s->len * sizeof *nv);
        pa_free_secret(s->v, *cap * sizeof *s->v); /* balances are private */
        s->v = nv;
        *cap = ncap;
    }
    s->v[s->len++] = *h;
    return 0;
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One snapshot's rows: spot {asset, free, locked}, futures {asset, marginBalance}. */
static int take_rows(pa_bn_snapshots *s, size_t *cap, int64_t day, const json_t *rows,
                     int futures)
{
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        pa_bn_holding h = {.day = day};
        PA_ENSURE(json_is_object(row));
        PA_GUARD(asset_of(row, "asset", h.asset));
        if (futures) {
            /* marginBalance = wallet balance + unrealized PnL: what the
             * account is worth; it can be negative. */
            PA_GUARD(amount_of(json_object_get(row, "marginBalance"), PA_DEC_NEG, &h.amount));
        } else {
            /* Binance's spot balances are never negative; one that is
             * (the simulator derives them from a history that may sell
             * more than it bought) is valued as written, not refused:
             * the day's equity is what the exchange says it was. */
            pa_dec free_, locked;
            PA_GUARD(amount_of(json_object_get(row, "free"), PA_DEC_NEG, &free_));
            PA_GUARD(amount_of(json_object_get(row, "locked"), PA_DEC_NEG, &locked));
            PA_GUARD(pa_dec_add(free_, locked, &h.amount));
        }
        if (pa_dec_sign(h.amount) != 0)
            PA_GUARD(push_holding(s, cap, &h));
    }
    return 0;
}

int pa_bn_decode_snapshots(const json_t *doc, int futures, pa_bn_snapshots *s, char *why,
                           size_t why_cap)
{
    memset(s, 0, sizeof *s);
    size_t cap = 0;
    const json_t *code = json_object_get(doc, "code");
    const json_t *vos = json_object_get(doc, "snapshotVos");
    if (!json_is_integer(code) || json_integer_value(code) != 200) {
        snprintf(why, why_cap, "accountSnapshot's code is not 200");
        return -1;
    }
    if (!json_is_array(vos) || json_array_size(vos) > 366) {
        snprintf(why, why_cap, "accountSnapshot has no snapshotVos list of at most 366 days");
        return -1;
    }
    size_t n = json_array_size(vos);
    s->days = malloc((n > 0 ? n : 1) * sizeof *s->days);
    if (s->days == NULL) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    const char *want = futures ? "futures" : "spot";
    size_t i;
    const json_t *vo;
    json_array_foreach(vos, i, vo)
    {
        int64_t t = 0;
        const json_t *data = json_object_get(vo, "data");
        const json_t *rows = json_object_get(data, futures ? "assets" : "balances");
        const char *type = pa_json_str(vo, "type");
        if (type == NULL || strcmp(type, want) != 0 ||
            time_of(json_object_get(vo, "updateTime"), &t) != 0 || !json_is_array(rows)) {
            snprintf(why, why_cap, "accountSnapshot has a %s snapshot without type \"%s\", "
                                   "updateTime or %s",
                     want, want, futures ? "assets" : "balances");
            goto fail;
        }
        int64_t day = pa_time_day(t);
        if (take_rows(s, &cap, day, rows, futures) != 0) {
            snprintf(why, why_cap, "accountSnapshot has a malformed %s",
                     futures ? "asset" : "balance");
            goto fail;
        }
        s->days[s->ndays++] = day;
    }
    qsort(s->days, s->ndays, sizeof *s->days, cmp_day);
    for (size_t k = 1; k < s->ndays; k++) {
        if (s->days[k] == s->days[k - 1]) {
            snprintf(why, why_cap, "accountSnapshot has two snapshots of one day");
            goto fail;
        }
    }
    return 0;
fail:
    s->len = cap; /* what to wipe */
    pa_bn_snapshots_free(s);
    return -1;
}

void pa_bn_snapshots_free(pa_bn_snapshots *s)
{
    if (s == NULL)
        return;
    free(s->days);
    pa_free_secret(s->v, s->len * sizeof *s->v);
    memset(s, 0, sizeof *s);
}

/* ---- flows ---------------------------------------------------------------- */

/* walletType: 0 spot (also when absent, as in older answers), 1 funding. */
static int spot_wallet(const json_t *row, int *spot)
{
    const json_t *w = json_object_get(row, "walletType");
    if (w == NULL) {
        *spot = 1;
        return 0;
    }
    PA_ENSURE(json_is_integer(w));
    *spot = json_integer_value(w) == 0;
    return 0;
}

static int int_of(const json_t *row, const char *key, long *out)
{
    const json_t *v = json_object_get(row, key);
    PA_ENSURE(json_is_integer(v));
    *out = (long)json_integer_value(v);
    return 0;
}

int pa_bn_decode_deposit(const json_t *row, pa_bn_flow_row *r)
{
    memset(r, 0, sizeof *r);
    PA_ENSURE(json_is_object(row));
    long status = 0;
    int spot = 0;
    PA_GUARD(asset_of(row, "coin", r->asset));
    PA_GUARD(amount_of(json_object_get(row, "amount"), 0, &r->amount));
    PA_GUARD(int_of(row, "status", &status));
    PA_GUARD(time_of(json_object_get(row, "insertTime"), &r->time_ms));
    const json_t *done = json_object_get(row, "completeTime");
    if (done != NULL) {
        int64_t c = 0;
        PA_GUARD(time_of(done, &c));
        if (c > 0)
            r->time_ms = c;
    }
    PA_GUARD(spot_wallet(row, &spot));
    r->counts = spot && (status == 1 || status == 6);
    return 0;
}

int pa_bn_parse_utc_time(const char *s, int64_t *ms)
{
    /* exactly "YYYY-MM-DD HH:MM:SS": then RFC 3339 with 'T' and 'Z' */
    char iso[24];
    PA_ENSURE(s != NULL && strlen(s) == 19 && s[10] == ' ');
    memcpy(iso, s, 19);
    iso[10] = 'T';
    iso[19] = 'Z';
    iso[20] = '\0';
    return pa_time_parse(iso, ms);
}

int pa_bn_decode_withdrawal(const json_t *row, pa_bn_flow_row *r)
{
    memset(r, 0, sizeof *r);
    PA_ENSURE(json_is_object(row));
    long status = 0;
    int spot = 0;
    pa_dec amount, fee = pa_dec_from_int(0), total;
    PA_GUARD(asset_of(row, "coin", r->asset));
    PA_GUARD(amount_of(json_object_get(row, "amount"), 0, &amount));
    if (json_object_get(row, "transactionFee") != NULL)
        PA_GUARD(amount_of(json_object_get(row, "transactionFee"), 0, &fee));
    PA_GUARD(int_of(row, "status", &status));
    PA_GUARD(pa_bn_parse_utc_time(pa_json_str(row, "applyTime"), &r->time_ms));
    PA_ENSURE(r->time_ms >= 0);
    PA_GUARD(spot_wallet(row, &spot));
    /* The wallet gives up amount + fee: the fee leaves with the money, it
     * is not a trading cost. */
    PA_GUARD(pa_dec_add(amount, fee, &total));
    PA_GUARD(pa_dec_sub(pa_dec_from_int(0), total, &r->amount));
    /* Binance takes the money at the application: 0 email sent, 2 awaiting
     * approval, 4 processing and 6 completed have left the wallet; 1
     * cancelled, 3 rejected and 5 failed gave it back. */
    r->counts = spot && (status == 0 || status == 2 || status == 4 || status == 6);
    return 0;
}

int pa_bn_decode_transfer(const json_t *row, const char *type, const char *wallet,
                          pa_bn_flow_row *r)
{
    memset(r, 0, sizeof *r);
    PA_ENSURE(json_is_object(row) && type != NULL && wallet != NULL);
    const char *rtype = pa_json_str(row, "type");
    const char *status = pa_json_str(row, "status");
    pa_dec amount;
    PA_ENSURE(rtype != NULL && strcmp(rtype, type) == 0 && status != NULL);
    PA_GUARD(asset_of(row, "asset", r->asset));
    PA_GUARD(amount_of(json_object_get(row, "amount"), 0, &amount));
    PA_GUARD(time_of(json_object_get(row, "timestamp"), &r->time_ms));
    /* TYPE = SOURCE_TARGET, e.g. MAIN_UMFUTURE: spot → USD-M futures. */
    size_t w = strlen(wallet), n = strlen(type);
    int out = n > w && strncmp(type, wallet, w) == 0 && type[w] == '_';
    int in = n > w && strcmp(type + n - w, wallet) == 0 && type[n - w - 1] == '_';
    PA_ENSURE(in != out); /* exactly one side is the scanned wallet */
    r->amount = amount;
    if (out)
        PA_GUARD(pa_dec_sub(pa_dec_from_int(0), amount, &r->amount));
    r->counts = strcmp(status, "CONFIRMED") == 0;
    return 0;
}
