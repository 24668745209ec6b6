/* Binance's trade history: GET /api/v3/myTrades paged by fromId, one audit
 * entry per page, and the run's limits. */
#ifndef PA_BINANCE_PAGING_H
#define PA_BINANCE_PAGING_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "connector.h"
#include "merkle.h"
#include "transport.h"
#include "wire.h"

#define PA_BN_PAGE_LIMIT 1000 /* myTrades' documented maximum */
/* An "all" scan asks every market quoted in the currency (Binance lists a few
 * hundred quoted in USDT) at least once, so the caps leave room for that. */
#define PA_BN_MAX_SYMBOLS 2000 /* symbols per run */
#define PA_BN_MAX_PAGES 4000   /* myTrades pages per run */

/* The audit entry of one fetched page (pa_exchange_audit_fetch); a full
 * log is PA_EXCHANGE_TOO_LARGE. */
pa_exchange_status pa_bn_audit(pa_bn_transport *t, pa_audit_log *audit, const char *endpoint,
                               const char *symbol, unsigned page, size_t count,
                               const int64_t *first_id, const int64_t *last_id);

/* Every trade of every symbol in t->out->symbols (each must be in markets),
 * into t->out->fills, sorted by (symbol, id) and de-duplicated. At most
 * PA_BN_MAX_PAGES pages and PA_FILLS_MAX fills: beyond, PA_EXCHANGE_TOO_LARGE. */
pa_exchange_status pa_bn_fetch_trades(pa_bn_transport *t, pa_audit_log *audit,
                                      const pa_bn_markets *markets);

#endif
