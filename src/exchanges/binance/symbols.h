/* Which symbols a Binance run fetches: the client's (checked against
 * exchangeInfo) or, without them, those derived from the account's
 * non-zero balances (docs/BINANCE.md, "Symbols"). */
#ifndef PA_BINANCE_SYMBOLS_H
#define PA_BINANCE_SYMBOLS_H

#include "enclave_only.h"

#include "connector.h"
#include "merkle.h"
#include "transport.h"
#include "wire.h"

/* GET /api/v3/account (signed): the held assets, audited. */
pa_exchange_status pa_bn_fetch_assets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_assets *a);

/* GET /api/v3/exchangeInfo: only the client's symbols when they fit a URL,
 * else every market; audited. */
pa_exchange_status pa_bn_fetch_markets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_markets *m);

/* t->out->symbols from t->p->symbols, each listed in m ("client"). */
pa_exchange_status pa_bn_client_symbols(pa_bn_transport *t, const pa_bn_markets *m);

/* t->out->symbols: every TRADING market pairing a held asset with a usual
 * quote asset, in either direction ("balances"). */
pa_exchange_status pa_bn_balance_symbols(pa_bn_transport *t, const pa_bn_markets *m,
                                         const pa_bn_assets *a);

#endif
