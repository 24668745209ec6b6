/* Binance's answers for prices, account snapshots and money flows, decoded:
 * pure functions in wire.h's style (no I/O, no state), tested on the bodies
 * Binance documents (tests/unit/test_binance_values_wire.c,
 * tests/data/binance/klines.json, accountSnapshot_*.json, deposit_hisrec.json,
 * withdraw_history.json, asset_transfer.json). What they accept is
 * docs/BINANCE.md, "Equity, flows and prices"; anything else is refused. */
#ifndef PA_BINANCE_VALUES_WIRE_H
#define PA_BINANCE_VALUES_WIRE_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "decimal.h"
#include "fills.h"
#include "result.h"

/* One kline (GET /api/v3/klines, /fapi/v1/klines): the open time, and the
 * open and close prices (decimal strings, at most 8 decimals). */
typedef struct {
    int64_t open_ms;
    pa_dec open;
    pa_dec close;
} pa_bn_kline;

/* One row of a klines answer: an array whose [0] is the open time (integer),
 * [1] the open and [4] the close (unsigned decimal strings). */
PA_MUST_USE int pa_bn_decode_kline(const json_t *row, pa_bn_kline *k);

/* One asset's amount in one daily snapshot. */
typedef struct {
    int64_t day; /* pa_time_day() of updateTime: the snapshot is that day's end */
    char asset[PA_ASSET_MAX];
    pa_dec amount; /* spot: free + locked; futures: marginBalance; signed as written */
} pa_bn_holding;

typedef struct {
    int64_t *days; /* every snapshot's day, ascending, unique (a day whose balances
                      are all zero is here and has no holding) */
    size_t ndays;
    pa_bn_holding *v; /* non-zero amounts */
    size_t len;
} pa_bn_snapshots;

/* GET /sapi/v1/accountSnapshot's body: `code` 200, `snapshotVos` an array of
 * {type, updateTime, data}; type "spot" → data.balances [{asset, free,
 * locked}], "futures" → data.assets [{asset, marginBalance, walletBalance}]
 * (futures = 1 expects the latter). Two snapshots of one day, an unusable
 * asset name, or a malformed amount fail with why set. */
PA_MUST_USE int pa_bn_decode_snapshots(const json_t *doc, int futures, pa_bn_snapshots *s,
                                       char *why, size_t why_cap);
void pa_bn_snapshots_free(pa_bn_snapshots *s);

/* A deposit, withdrawal or transfer row: what moved, when, and whether it
 * changed the scanned wallet's balance. */
typedef struct {
    int64_t time_ms;
    char asset[PA_ASSET_MAX];
    pa_dec amount; /* > 0 into the wallet, < 0 out of it */
    int counts;    /* completed and in the scanned wallet: a cash flow */
} pa_bn_flow_row;

/* One row of GET /sapi/v1/capital/deposit/hisrec: coin, amount (unsigned
 * decimal string), status integer (1 success and 6 credited count; 0
 * pending, 7 wrong, 8 waiting for the user do not), insertTime integer
 * (completeTime, when present and positive, is used instead: the time the
 * balance was credited), walletType 0 (spot, also when absent) or 1
 * (funding: not the spot wallet, does not count). */
PA_MUST_USE int pa_bn_decode_deposit(const json_t *row, pa_bn_flow_row *r);

/* One row of GET /sapi/v1/capital/withdraw/history: coin, amount and
 * transactionFee (unsigned decimal strings; the wallet is debited their
 * sum), status integer (0 email sent, 2 awaiting approval, 4 processing and 6
 * completed count: the wallet is debited at the application; 1 cancelled,
 * 3 rejected, 5 failed do not), applyTime "YYYY-MM-DD
 * HH:MM:SS" UTC (when the balance was debited), walletType as for deposits. */
PA_MUST_USE int pa_bn_decode_withdrawal(const json_t *row, pa_bn_flow_row *r);

/* One row of GET /sapi/v1/asset/transfer asked with type `type` (e.g.
 * "MAIN_UMFUTURE"): asset, amount (unsigned decimal string), type (must be
 * the one asked), status ("CONFIRMED" counts; "PENDING", "FAILED" do not),
 * timestamp integer. The sign: + when the type's target is `wallet` (e.g.
 * "MAIN"), - when its source is. */
PA_MUST_USE int pa_bn_decode_transfer(const json_t *row, const char *type, const char *wallet,
                                      pa_bn_flow_row *r);

/* "2019-10-12 11:12:02" (UTC, as Binance writes applyTime) into ms. */
PA_MUST_USE int pa_bn_parse_utc_time(const char *s, int64_t *ms);

#endif
