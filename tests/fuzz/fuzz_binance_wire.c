/* libFuzzer driver for the Binance wire decoders (src/exchanges/binance/wire.c):
 * the enclave's parsers of what an exchange — or anyone between it and a
 * misconfigured development enclave — answers. The input is one JSON text,
 * given to every decoder. Beyond "no crash":
 *  - exchangeInfo: markets sorted, unique, every name within the rules
 *    (symbols pa_symbol_ok, assets [A-Z0-9]{1,15}), no more than listed, each
 *    found by pa_bn_find_market; a refusal leaves nothing allocated;
 *  - account: assets sorted (a repeated balance repeats its asset: harmless,
 *    it only answers "held?"), within the rules, no more than the non-zero
 *    balances counted, each found by pa_bn_has_asset;
 *  - trades (each element of an array): an accepted one has ids and times in
 *    [0, 2^53], finite non-negative price, qty and quoteQty, a finite
 *    commission, a valid commission asset, and the market's names;
 *  - serverTime in (0, 2^53]; an error code only with an integer "code";
 *  - USD-M futures (futures_wire.c), each element of an array: an accepted
 *    userTrades row as a spot trade above; an accepted income row has a
 *    known type, an empty or valid symbol, a valid asset, time and tranId
 *    in [0, 2^53] and an exact amount;
 *  - prices and account values (values_wire.c): an accepted kline has its
 *    open time in [0, 2^53] and exact non-negative prices; an accepted
 *    snapshot answer has unique ascending days and non-zero exact holdings
 *    of valid assets on those days, a refused one leaves nothing allocated;
 *    an accepted deposit, withdrawal or transfer row has a valid asset, a
 *    time in [0, 2^53], an exact amount of the right sign and counts 0/1. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "json_strict.h"
#include "futures_wire.h"
#include "values_wire.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SAFE ((int64_t)1 << 53)

static void check_markets(const json_t *doc)
{
    pa_bn_markets m;
    char why[128];
    if (pa_bn_decode_exchange_info(doc, &m, why, sizeof why) != 0) {
        if (m.v != NULL || m.len != 0 || why[0] == '\0')
            abort();
        return;
    }
    if (m.len > m.listed)
        abort();
    for (size_t i = 0; i < m.len; i++) {
        const pa_bn_market *mk = &m.v[i];
        if (!pa_bn_symbol_ok(mk->symbol) || !pa_bn_asset_ok(mk->base) ||
            !pa_bn_asset_ok(mk->quote) || (mk->trading != 0 && mk->trading != 1))
            abort();
        if (i > 0 && strcmp(m.v[i - 1].symbol, mk->symbol) >= 0)
            abort();
        if (pa_bn_find_market(&m, mk->symbol) != mk)
            abort();
    }
    pa_bn_markets_free(&m);
}

static void check_account(const json_t *doc)
{
    pa_bn_assets a;
    char why[128];
    if (pa_bn_decode_account(doc, &a, why, sizeof why) != 0) {
        if (a.v != NULL || a.len != 0 || why[0] == '\0')
            abort();
        return;
    }
    if (a.len > a.nonzero)
        abort();
    for (size_t i = 0; i < a.len; i++) {
        if (!pa_bn_asset_ok(a.v[i]) || !pa_bn_has_asset(&a, a.v[i]))
            abort();
        if (i > 0 && strcmp(a.v[i - 1], a.v[i]) > 0)
            abort();
    }
    pa_bn_assets_free(&a);
}

static void check_trades(const json_t *doc)
{
    static const pa_bn_market mk = {"BNBBTC", "BNB", "BTC", 1};
    size_t i;
    const json_t *row;
    json_array_foreach(doc, i, row)
    {
        pa_fill f;
        if (pa_bn_decode_trade(row, &mk, &f) != 0)
            continue;
        if (f.id < 0 || f.id > MAX_SAFE || f.time_ms < 0 || f.time_ms > MAX_SAFE)
            abort();
        /* Exact amounts within the decimal's range; only the fee may be negative. */
        if (!pa_dec_valid(f.price) || pa_dec_sign(f.price) < 0 || !pa_dec_valid(f.qty) ||
            pa_dec_sign(f.qty) < 0 || !pa_dec_valid(f.quote_qty) || pa_dec_sign(f.quote_qty) < 0 ||
            !pa_dec_valid(f.commission))
            abort();
        if (!pa_bn_asset_ok(f.commission_asset) || strcmp(f.symbol, mk.symbol) != 0 ||
            strcmp(f.base, mk.base) != 0 || strcmp(f.quote, mk.quote) != 0 ||
            (f.is_buyer != 0 && f.is_buyer != 1))
            abort();
    }
}

static void check_futures(const json_t *doc)
{
    static const pa_bn_market mk = {"BTCUSDT", "BTC", "USDT", 1};
    size_t i;
    const json_t *row;
    json_array_foreach(doc, i, row)
    {
        pa_fill f;
        if (pa_bn_decode_futures_trade(row, &mk, &f) == 0 &&
            (f.id < 0 || f.id > MAX_SAFE || f.time_ms < 0 || f.time_ms > MAX_SAFE ||
             !pa_dec_valid(f.price) || pa_dec_sign(f.price) < 0 || !pa_dec_valid(f.qty) ||
             pa_dec_sign(f.qty) < 0 || !pa_dec_valid(f.quote_qty) ||
             pa_dec_sign(f.quote_qty) < 0 || !pa_dec_valid(f.commission) ||
             !pa_bn_asset_ok(f.commission_asset) || strcmp(f.symbol, mk.symbol) != 0))
            abort();
        pa_income r;
        if (pa_bn_decode_income(row, &r) == 0 &&
            (r.type > PA_INCOME_OTHER || (r.symbol[0] != '\0' && !pa_bn_symbol_ok(r.symbol)) ||
             !pa_bn_asset_ok(r.asset) || r.time_ms < 0 || r.time_ms > MAX_SAFE ||
             r.tran_id < 0 || r.tran_id > MAX_SAFE || !pa_dec_valid(r.amount)))
            abort();
    }
}

static void check_snapshots(const json_t *doc, int futures)
{
    pa_bn_snapshots s;
    char why[128];
    if (pa_bn_decode_snapshots(doc, futures, &s, why, sizeof why) != 0) {
        if (s.v != NULL || s.days != NULL || s.len != 0 || s.ndays != 0 || why[0] == '\0')
            abort();
        return;
    }
    for (size_t i = 1; i < s.ndays; i++)
        if (s.days[i - 1] >= s.days[i])
            abort();
    for (size_t i = 0; i < s.len; i++) {
        const pa_bn_holding *h = &s.v[i];
        int known = 0;
        for (size_t k = 0; k < s.ndays; k++)
            known |= s.days[k] == h->day;
        if (!known || !pa_bn_asset_ok(h->asset) || !pa_dec_valid(h->amount) ||
            pa_dec_sign(h->amount) == 0)
            abort();
    }
    pa_bn_snapshots_free(&s);
}

static void check_flow(const pa_bn_flow_row *r, int sign)
{
    if (!pa_bn_asset_ok(r->asset) || r->time_ms < 0 || r->time_ms > MAX_SAFE ||
        !pa_dec_valid(r->amount) || (sign != 0 && pa_dec_sign(r->amount) * sign < 0) ||
        (r->counts != 0 && r->counts != 1))
        abort();
}

static void check_values(const json_t *doc)
{
    check_snapshots(doc, 0);
    check_snapshots(doc, 1);
    const json_t *rows = json_is_array(doc) ? doc : json_object_get(doc, "rows");
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        pa_bn_kline k;
        if (pa_bn_decode_kline(row, &k) == 0 &&
            (k.open_ms < 0 || k.open_ms > MAX_SAFE || !pa_dec_valid(k.open) ||
             pa_dec_sign(k.open) < 0 || !pa_dec_valid(k.close) || pa_dec_sign(k.close) < 0))
            abort();
        pa_bn_flow_row r;
        if (pa_bn_decode_deposit(row, &r) == 0)
            check_flow(&r, 1);
        if (pa_bn_decode_withdrawal(row, &r) == 0)
            check_flow(&r, -1);
        if (pa_bn_decode_transfer(row, "MAIN_UMFUTURE", "MAIN", &r) == 0)
            check_flow(&r, -1);
        if (pa_bn_decode_transfer(row, "UMFUTURE_MAIN", "MAIN", &r) == 0)
            check_flow(&r, 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = pa_json_parse((const char *)data, size, (size_t)1 << 20);
    if (doc == NULL)
        return 0;
    check_markets(doc);
    check_account(doc);
    check_trades(doc);
    check_futures(doc);
    check_values(doc);
    int64_t ms = 0;
    if (pa_bn_decode_server_time(doc, &ms) == 0 && (ms <= 0 || ms > MAX_SAFE))
        abort();
    /* apiRestrictions: a decoded answer is known, with 0/1 flags; a refused
     * one leaves nothing known (a key is never judged on half an answer). */
    pa_key_permissions k;
    char why[128];
    if (pa_bn_decode_api_restrictions(doc, &k, why, sizeof why) == 0) {
        if (!k.known || (unsigned)k.withdraw > 1 || (unsigned)k.read > 1 ||
            (unsigned)k.other_trading > 1 ||
            !json_is_boolean(json_object_get(doc, "enableWithdrawals")))
            abort();
    } else if (k.known) {
        abort();
    }
    char uid[PA_ACCOUNT_UID_MAX];
    if (pa_bn_decode_uid(doc, uid, sizeof uid, why, sizeof why) == 0 &&
        (uid[0] < '1' || uid[0] > '9' || strspn(uid, "0123456789") != strlen(uid)))
        abort();
    long code = 0;
    const char *msg = NULL;
    if (pa_bn_decode_error(doc, &code, &msg) == 0) {
        if (!json_is_integer(json_object_get(doc, "code")))
            abort();
    } else if (code != 0 || msg != NULL) {
        abort();
    }
    json_decref(doc);
    return 0;
}
