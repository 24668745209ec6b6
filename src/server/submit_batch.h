/* Group commit for POST /enclave/submit_key (docs/DATABASE.md, "Group
 * commit"). One transaction per submit costs one WAL flush per submit, and
 * at 64 closed-loop connections that flush rate, not the request path, sets
 * both throughput and p99. Instead the workers that finished the enclave
 * part of a submit queue their row here and wait; one of them at a time
 * (the leader) writes everything queued in one statement
 * (pa_db_session_create_batch: one transaction, one flush), then hands each
 * waiter its own outcome. Rows that arrive while a batch is being written
 * form the next one, so batches grow with the load and a lone submit waits
 * for nobody: no timer, no extra thread.
 *
 * Each submit keeps session_create's contract: stored all or nothing,
 * PA_DB_CONFLICT for a replay (also of an envelope queued beside it),
 * PA_DB_UNAVAILABLE when the database fails, and nothing reported stored
 * before its transaction committed. */
#ifndef PA_SUBMIT_BATCH_H
#define PA_SUBMIT_BATCH_H

#include "db.h"

typedef struct pa_submit_batch pa_submit_batch;

/* At most max_batch rows per statement (1 .. PA_DB_BATCH_MAX). NULL on
 * allocation failure or a bad argument. db stays the caller's. */
pa_submit_batch *pa_submit_batch_new(pa_db *db, int max_batch);
/* Only once no pa_submit_batch_create runs any more. */
void pa_submit_batch_free(pa_submit_batch *b);

/* pa_db_session_create, batched with the submits of other threads. Blocks
 * until this row's batch is written; how long is bounded by db.c's time
 * limits on the batch before it and on its own. A row naming an
 * enclave_key_id (its key is claimed in its own transaction) goes straight
 * to pa_db_session_create. */
pa_db_status pa_submit_batch_create(pa_submit_batch *b, const pa_db_new_session *s);

#endif
