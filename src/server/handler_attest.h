/* GET /attestation/quote and GET /attestation/root (handler_attest.c). */
#ifndef PA_HANDLER_ATTEST_H
#define PA_HANDLER_ATTEST_H

#include "handlers.h"

/* ?nonce= checked; without one, the prober's document from memory
 * (quote_cache.h) when it has one. */
PA_MUST_USE int pa_quote_prepare(pa_job *job, struct MHD_Connection *conn);
void pa_quote_run(pa_job *job);
PA_MUST_USE int pa_root_prepare(pa_job *job, struct MHD_Connection *conn);
void pa_root_run(pa_job *job);

#endif
