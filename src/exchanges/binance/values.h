/* Equity, cash flows and daily closes of a Binance account
 * (pa_exchange_result.values, account_values.h; docs/BINANCE.md, "Equity,
 * flows and daily closes"). */
#ifndef PA_BINANCE_VALUES_H
#define PA_BINANCE_VALUES_H

#include "enclave_only.h"

#include "connector.h"
#include "merkle.h"
#include "prices.h"
#include "transport.h"

/* How far back Binance answers (its wallet documentation). */
#define PA_BN_SNAPSHOT_REACH_DAYS 30 /* accountSnapshot: "the last one month only",
                                        a query period under 30 days */
#define PA_BN_TRANSFER_REACH_DAYS 180 /* asset/transfer: "the last 6 months only" */
#define PA_BN_FLOW_WINDOW_DAYS 90     /* deposit/withdraw history: startTime..endTime < 90 days */
#define PA_BN_FLOW_PAGE_LIMIT 1000    /* deposit/withdraw history: limit's maximum */
#define PA_BN_TRANSFER_PAGE_SIZE 100  /* asset/transfer: size's maximum */
#define PA_BN_MAX_VALUE_PAGES 2000    /* snapshot, flow and transfer pages per run */

typedef enum {
    PA_BN_WALLET_SPOT = 0, /* snapshot SPOT; deposits, withdrawals, transfers of MAIN */
    PA_BN_WALLET_USDM,     /* snapshot FUTURES; transfers of UMFUTURE */
} pa_bn_wallet;

/* Fills t->out->values for the params' window [from_ms, min(to_ms, now)):
 * the wallet's daily equity from its snapshots (every non-zero balance
 * valued in p->currency at the day's close through spot_px's daily candles;
 * a day with a balance no route prices is left out), its cash flows (each
 * valued at the open of the hour candle it happened in; one no route prices
 * is counted in unvalued_flows), and the daily closes of every symbol with
 * fills from close_px's daily candles (spot: /api/v3/klines; usdm:
 * /fapi/v1/klines). t is the spot host's transport (the /sapi/ calls); one
 * audit entry per page. */
pa_exchange_status pa_bn_fetch_values(pa_bn_transport *t, pa_audit_log *audit,
                                      pa_bn_prices *spot_px, pa_bn_prices *close_px,
                                      const pa_exchange_params *p, pa_bn_wallet wallet);

#endif
