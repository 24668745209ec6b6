/* Storing an enclave's signed aggregate for its session: the last step of
 * an aggregate job (jobs.c), and the answers it shares with
 * request_aggregates' session check (handler_aggregates.c). */
#ifndef PA_AGGREGATE_STORE_H
#define PA_AGGREGATE_STORE_H

#include <jansson.h>

#include "db.h"
#include "reply.h"

/* Stores the enclave's aggregate answer (the job's "result") for
 * session_id as request_aggregates always did, and fills reply with the 200
 * answer or the error (session gone, limit, database). */
void pa_aggregate_store(pa_db *db, long max_results, const char *session_id,
                        const json_t *result, pa_reply *reply);

/* 429 result_limit_reached: the session holds max_results results. */
void pa_aggregate_limit_reply(pa_reply *reply, long max_results);

#endif
