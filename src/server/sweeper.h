/* The TTL sweeper: a thread that calls cleanup_expired_credentials() (via
 * pa_db_cleanup_expired) at start and then every CLEANUP_INTERVAL_SECONDS. */
#ifndef PA_SWEEPER_H
#define PA_SWEEPER_H

#include <stdint.h>

#include "db.h"
#include "result.h"

typedef struct pa_sweeper pa_sweeper;

pa_sweeper *pa_sweeper_start(pa_db *db, int64_t interval_s);
/* Wakes the thread and waits up to timeout_ms for a run in progress to end;
 * then joins and frees: 0. -1 when the run is still going at the deadline
 * (nothing freed: the caller is expected to exit). s may be NULL. */
PA_MUST_USE int pa_sweeper_stop(pa_sweeper *s, int64_t timeout_ms);

#endif
