/* Binance spot (docs/BINANCE.md): the connector the registry lists. */
#ifndef PA_BINANCE_H
#define PA_BINANCE_H

#include "enclave_only.h"

#include "connector.h"

/* name "binance"; fetch = the calls of docs/BINANCE.md in order:
 * [account] → exchangeInfo → symbols → myTrades pages. */
extern const pa_connector pa_binance_connector;

#endif
