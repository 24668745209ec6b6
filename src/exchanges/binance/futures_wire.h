/* Binance USD-M futures answers, decoded: pure functions in wire.h's style
 * (no I/O, no state), tested on the bodies Binance documents
 * (tests/unit/test_binance_futures_wire.c, tests/data/binance/futures_*.json). */
#ifndef PA_BINANCE_FUTURES_WIRE_H
#define PA_BINANCE_FUTURES_WIRE_H

#include "enclave_only.h"

#include <jansson.h>

#include "fills.h"
#include "income.h"
#include "result.h"
#include "wire.h"

/* One row of GET /fapi/v1/userTrades for contract mk, into f: `symbol`
 * (when present) mk's, `buyer` a boolean, `id` and `time` integers in [0,
 * 2^53], price, qty and quoteQty unsigned decimal strings, commission a
 * decimal string that may be negative (Binance's own example is),
 * commissionAsset a valid asset. realizedPnl is not read: PnL comes from the
 * income history, where Binance books it. */
PA_MUST_USE int pa_bn_decode_futures_trade(const json_t *row, const pa_bn_market *mk, pa_fill *f);

/* One row of GET /fapi/v1/income into r: incomeType a string of A-Z and '_'
 * (REALIZED_PNL, COMMISSION, FUNDING_FEE are counted; every other type is
 * PA_INCOME_OTHER: Binance adds types over time, and transfers or bonuses
 * are not performance), income a signed decimal string, asset a valid
 * asset, time and tranId integers in [0, 2^53], symbol "" or a valid symbol. */
PA_MUST_USE int pa_bn_decode_income(const json_t *row, pa_income *r);

#endif
