/* The TTL sweeper: a thread that calls cleanup_expired_credentials() (via
 * pa_db_cleanup_expired) at start and then every CLEANUP_INTERVAL_SECONDS. */
#ifndef PA_SWEEPER_H
#define PA_SWEEPER_H

#include <stdint.h>

#include "db.h"

typedef struct pa_sweeper pa_sweeper;

pa_sweeper *pa_sweeper_start(pa_db *db, int64_t interval_s);
/* Wakes the thread, waits for a run in progress to end, joins, frees. */
void pa_sweeper_stop(pa_sweeper *s);

#endif
