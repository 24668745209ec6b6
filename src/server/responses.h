/* Success bodies of the API. The signed aggregates and the audit entries are
 * pasted in as the exact bytes the enclave produced (never re-serialised),
 * so what a client verifies is what was signed. */
#ifndef PA_RESPONSES_H
#define PA_RESPONSES_H

#include <stdint.h>

#include "db.h"
#include "enclave_answer.h"

/* Each returns a malloc'd JSON text, or NULL (allocation failure, or for
 * pa_body_logs data that is not what the enclave would have stored). */
char *pa_body_submit(const char *session_id, int64_t expires_at_ms);
char *pa_body_aggregates(const pa_aggregate_answer *a);
char *pa_body_logs(const char *result_id, const pa_db_logs *logs);
char *pa_body_quote(const pa_attest_answer *a);
char *pa_body_revoked(void);
/* 200 when both are up, else 503 with "degraded". */
char *pa_body_health(int database_ok, int enclave_ok, unsigned *status);

#endif
