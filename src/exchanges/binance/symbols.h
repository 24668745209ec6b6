/* Which symbols a Binance run fetches: the client's (checked against
 * exchangeInfo), or without them every market quoted in the result's
 * currency — never a choice that depends on what the account still holds
 * (docs/BINANCE.md, "Symbols"). */
#ifndef PA_BINANCE_SYMBOLS_H
#define PA_BINANCE_SYMBOLS_H

#include "enclave_only.h"

#include "connector.h"
#include "merkle.h"
#include "transport.h"
#include "wire.h"

/* GET /api/v3/account (signed): the held assets, audited. Called first in an
 * "all" scan so that a key that does not work fails before the exchangeInfo
 * download; the balances choose nothing. */
pa_exchange_status pa_bn_fetch_assets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_assets *a);

/* GET /api/v3/exchangeInfo: only the client's symbols when they fit a URL,
 * else every market; audited. */
pa_exchange_status pa_bn_fetch_markets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_markets *m);

/* t->out->symbols from t->p->symbols, each listed in m ("client"). */
pa_exchange_status pa_bn_client_symbols(pa_bn_transport *t, const pa_bn_markets *m);

/* t->out->symbols: every market in m whose quote asset is t->p->currency,
 * whatever its status ("all"). */
pa_exchange_status pa_bn_all_symbols(pa_bn_transport *t, const pa_bn_markets *m);

#endif
