/* Time as int64 milliseconds since the Unix epoch, UTC. */
#ifndef PA_TIMEUTIL_H
#define PA_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "result.h"

#define PA_TIME_STR_LEN 32

int64_t pa_now_ms(void);

/* CLOCK_MONOTONIC now + ms (ms <= 0: now), for pthread_cond_timedwait on a
 * condition variable created with pthread_condattr_setclock(CLOCK_MONOTONIC). */
struct timespec pa_deadline_after_ms(int64_t ms);

/* CLOCK_MONOTONIC in microseconds: for durations, never for dates. */
int64_t pa_mono_us(void);

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define PA_TIME_MIN_MS INT64_C(-62167219200000)
#define PA_TIME_MAX_MS INT64_C(253402300799999)

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 'T'/'Z' may be
 * lower case. Fractions beyond milliseconds are truncated. The instant must
 * lie in years 0000-9999 UTC (PA_TIME_MIN_MS..PA_TIME_MAX_MS), the range
 * pa_time_format writes. */
PA_MUST_USE int pa_time_parse(const char *s, int64_t *ms_out);

/* Formats like JavaScript's Date.toISOString: 2026-11-23T22:17:34.123Z. */
void pa_time_format(int64_t ms, char out[PA_TIME_STR_LEN]);

/* Days since the epoch of the UTC calendar day containing ms (floor). */
int64_t pa_time_day(int64_t ms);

#endif
