/* Process-wide counts of the HTTP calls the connectors make to exchanges,
 * by venue and outcome, for the enclave's `stats` op (host: /metrics,
 * perfagg_exchange_calls_total). Counts only: no URL, path, key or body.
 * Relaxed atomics, callable from any worker thread. */
#ifndef PA_CALLSTATS_H
#define PA_CALLSTATS_H

#include "enclave_only.h"

#include <stdint.h>

typedef enum {
    PA_VENUE_BINANCE_SPOT, /* api.binance.com (also /sapi/) */
    PA_VENUE_BINANCE_USDM, /* fapi.binance.com */
    PA_VENUE_COUNT
} pa_venue;

typedef enum {
    PA_CALL_OK,           /* HTTP 200 with a usable body */
    PA_CALL_HTTP_4XX,     /* a 4xx other than 418 and 429 */
    PA_CALL_HTTP_429,     /* rate limited */
    PA_CALL_HTTP_418,     /* banned */
    PA_CALL_HTTP_5XX,     /* the exchange failed */
    PA_CALL_NETWORK,      /* no HTTP answer: connect, TLS, timeout */
    PA_CALL_BAD_RESPONSE, /* an answer too large or not JSON */
    PA_CALL_OUTCOME_COUNT
} pa_call_outcome;

/* The names are the contract's (src/ipc, stats answer). */
const char *pa_venue_name(pa_venue v);
const char *pa_call_outcome_name(pa_call_outcome o);

void pa_callstats_record(pa_venue v, pa_call_outcome o);
uint64_t pa_callstats_get(pa_venue v, pa_call_outcome o);

#endif
