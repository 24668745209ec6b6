/* One request-weight budget and one ban list per exchange host, shared by
 * every session this enclave process serves (exchanges count weight per
 * IP, and all sessions leave through the same one). Venue-neutral: Binance
 * reports X-MBX-USED-WEIGHT-1M and bans with HTTP 418 (docs/BINANCE.md,
 * "Misbehaving exchanges"); another venue feeds the same calls. Thread-safe. */
#ifndef PA_PACING_H
#define PA_PACING_H

#include "enclave_only.h"

#include <stdint.h>

#include "result.h"

#define PA_PACE_WINDOW_MS 60000 /* weight is counted per clock minute */

typedef enum {
    PA_PACE_GO = 0,   /* the weight is reserved: send */
    PA_PACE_BANNED,   /* the host banned us: *wait_ms until the ban ends */
    PA_PACE_TOO_LONG, /* the budget is spent (or the host holds) past the deadline: *wait_ms */
    PA_PACE_FULL,     /* no room for another host in the table */
} pa_pace_verdict;

/* Reserves weight for one request to host (e.g. the base URL) within
 * budget per window, sleeping until the next window while the budget is
 * spent, but never past deadline_ms (pa_now_ms time). The count is ours
 * (every reservation) or the exchange's (pa_pace_report_used), whichever is
 * higher; a host that has never reported its count is not paced — there is
 * no budget to keep without the exchange's own figure (Binance sends it on
 * every answer). A ban holds either way. */
pa_pace_verdict pa_pace_acquire(const char *host, unsigned weight, unsigned budget,
                                int64_t deadline_ms, int64_t *wait_ms);
/* The weight the host says this window has used so far (a response header):
 * the budget follows the exchange's count when it is higher than ours. */
void pa_pace_report_used(const char *host, long used);
/* The host asked for a pause (HTTP 429 with Retry-After): every caller
 * waits until until_ms (or gives up when that is past its deadline). */
void pa_pace_hold(const char *host, int64_t until_ms);
/* The host refuses every call until until_ms. */
void pa_pace_ban(const char *host, int64_t until_ms);
/* Forgets every host (tests; a fresh process starts empty). */
void pa_pace_reset(void);

#endif
