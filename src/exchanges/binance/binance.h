/* Binance spot (docs/BINANCE.md): the connector the registry lists. */
#ifndef PA_BINANCE_H
#define PA_BINANCE_H

#include "enclave_only.h"

#include "connector.h"

/* name "binance"; fetch = the calls of docs/BINANCE.md in order:
 * [account] → exchangeInfo → symbols → myTrades pages. */
extern const pa_connector pa_binance_connector;

/* name "binance", account_type "usdm" (docs/BINANCE.md, "USD-M futures"):
 * income → symbols → /fapi/v1/exchangeInfo → userTrades pages, within the
 * params' window and the exchange's history reach. */
extern const pa_connector pa_binance_usdm_connector;

#endif
