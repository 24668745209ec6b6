#include "callstats.h"

#include <stdatomic.h>

static atomic_ullong calls[PA_VENUE_COUNT][PA_CALL_OUTCOME_COUNT];

const char *pa_venue_name(pa_venue v)
{
    static const char *const names[PA_VENUE_COUNT] = {
        [PA_VENUE_BINANCE_SPOT] = "binance_spot",
        [PA_VENUE_BINANCE_USDM] = "binance_usdm",
    };
    return (unsigned)v < PA_VENUE_COUNT ? names[v] : "unknown";
}

const char *pa_call_outcome_name(pa_call_outcome o)
{
    static const char *const names[PA_CALL_OUTCOME_COUNT] = {
        [PA_CALL_OK] = "ok",
        [PA_CALL_HTTP_4XX] = "http_4xx",
        [PA_CALL_HTTP_429] = "http_429",
        [PA_CALL_HTTP_418] = "http_418",
        [PA_CALL_HTTP_5XX] = "http_5xx",
        [PA_CALL_NETWORK] = "network",
        [PA_CALL_BAD_RESPONSE] = "bad_response",
    };
    return (unsigned)o < PA_CALL_OUTCOME_COUNT ? names[o] : "unknown";
}

void pa_callstats_record(pa_venue v, pa_call_outcome o)
{
    if ((unsigned)v < PA_VENUE_COUNT && (unsigned)o < PA_CALL_OUTCOME_COUNT)
        atomic_fetch_add_explicit(&calls[v][o], 1, memory_order_relaxed);
}

uint64_t pa_callstats_get(pa_venue v, pa_call_outcome o)
{
    if ((unsigned)v >= PA_VENUE_COUNT || (unsigned)o >= PA_CALL_OUTCOME_COUNT)
        return 0;
    return atomic_load_explicit(&calls[v][o], memory_order_relaxed);
}
