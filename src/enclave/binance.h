/* Binance spot connector (runs inside the enclave: it holds the API secret).
 * Signed REST calls as Binance documents them: HMAC-SHA256 hex of the query
 * string as `signature`, X-MBX-APIKEY header, timestamp + recvWindow. */
#ifndef PA_BINANCE_H
#define PA_BINANCE_H

#include "enclave_only.h"

#include <stddef.h>

#include "egress.h"
#include "fills.h"
#include "merkle.h"
#include "result.h"

typedef enum {
    PA_EXCHANGE_OK = 0,
    PA_EXCHANGE_REJECTED_KEY,  /* -2015, -1022, -2014, HTTP 401: the key is not usable */
    PA_EXCHANGE_UNAVAILABLE,   /* connect/timeout/5xx/429/418 */
    PA_EXCHANGE_BAD_RESPONSE,  /* unparseable or inconsistent answer */
    PA_EXCHANGE_TOO_LARGE,     /* more fills/pages than the enclave will process */
} pa_exchange_status;

typedef struct {
    const char *base_url;   /* e.g. https://api.binance.com (no trailing slash) */
    const char *api_key;    /* secret */
    const char *api_secret; /* secret */
    const char *const *symbols; /* client-chosen symbols, or NULL to derive from balances */
    size_t nsymbols;
    long timeout_ms; /* per HTTP call */
    const pa_egress *egress; /* transport policy; NULL: development defaults */
} pa_binance_params;

typedef struct {
    pa_fill_list fills;     /* de-duplicated by (symbol, id) */
    char **symbols;         /* the symbols whose trades were fetched (malloc'd) */
    size_t nsymbols;
    const char *symbol_source; /* "client" or "balances" (static) */
    char detail[160];       /* non-secret description of a failure */
} pa_binance_result;

/* Fetches every fill of the account for the symbols (GET /api/v3/myTrades,
 * paged by fromId, limit 1000). When no symbols are given, derives them from
 * the non-zero balances of GET /api/v3/account paired with the usual quote
 * assets that exist in GET /api/v3/exchangeInfo. Appends one audit entry per
 * page fetched: {type:"fetch", endpoint, symbol, page, count, first_id, last_id}. */
pa_exchange_status pa_binance_fetch(const pa_binance_params *p, pa_audit_log *audit,
                                    pa_binance_result *out);
void pa_binance_result_free(pa_binance_result *r);

/* The request signature: lowercase hex HMAC-SHA256(secret, query). */
PA_MUST_USE int pa_binance_sign(const char *secret, const char *query, char out_hex[65]);

#endif
