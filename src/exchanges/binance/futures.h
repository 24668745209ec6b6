/* Binance USD-M futures history (docs/BINANCE.md, "USD-M futures"): the
 * income history and the fills of GET /fapi/v1/income and
 * /fapi/v1/userTrades, paged within Binance's window and history rules, one
 * audit entry per page (paging.h's pa_bn_audit). */
#ifndef PA_BINANCE_FUTURES_H
#define PA_BINANCE_FUTURES_H

#include "enclave_only.h"

#include <stdint.h>

#include "connector.h"
#include "merkle.h"
#include "transport.h"
#include "wire.h"

#define PA_BN_FUT_DAY_MS 86400000LL
/* userTrades: at most 7 days between startTime and endTime. */
#define PA_BN_FUT_TRADES_SPAN_MS (7 * PA_BN_FUT_DAY_MS)
/* How far back the history reaches. Binance: userTrades "the past 6
 * months", income "the last three months". Three calendar months are never
 * shorter than 89 days (Feb 28 to May 28), so income is complete from 89
 * days back; every covered fill is within 6 months. */
#define PA_BN_FUT_INCOME_REACH_DAYS 89
#define PA_BN_FUT_PAGE_LIMIT 1000 /* both endpoints' documented maximum */
#define PA_BN_FUT_MAX_PAGES 1000  /* pages of either endpoint per run */

/* The covered window: [max(from, now - 89 days), min(to, now)). -1 when it
 * is empty (the window ends before the history the exchange keeps). */
PA_MUST_USE int pa_bn_futures_window(int64_t from_ms, int64_t to_ms, int64_t now_ms,
                                     int64_t *lo, int64_t *hi);

/* Every income row with time in [lo, hi) into t->out->income, paged by
 * startTime (no `page`: client libraries report Binance dropped it from
 * this endpoint in 2026), sorted by (time, type,
 * tranId) and de-duplicated by (type, tranId). */
pa_exchange_status pa_bn_fetch_income(pa_bn_transport *t, pa_audit_log *audit, int64_t lo,
                                      int64_t hi, unsigned *pages);

/* GET /fapi/v1/exchangeInfo into m. */
pa_exchange_status pa_bn_fetch_futures_markets(pa_bn_transport *t, pa_audit_log *audit,
                                               pa_bn_markets *m);

/* Every fill of contract mk with time in [lo, hi) into t->out->fills: the
 * first 7-day window holding a fill gives its id, fromId pages on from it. */
pa_exchange_status pa_bn_fetch_futures_trades(pa_bn_transport *t, pa_audit_log *audit,
                                              const pa_bn_market *mk, int64_t lo, int64_t hi,
                                              unsigned *pages);

#endif
