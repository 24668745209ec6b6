/* POST /enclave/submit_key (handler_submit.c). */
#ifndef PA_HANDLER_SUBMIT_H
#define PA_HANDLER_SUBMIT_H

#include "handlers.h"

PA_MUST_USE int pa_submit_prepare(pa_job *job, struct MHD_Connection *conn);
/* Never asks pa_job_client_gone: once the enclave has opened the envelope
 * the commit follows, and a submit stopped between the two, or with its
 * commit under way (batched with others), would leave its client unable to
 * tell whether it was stored. A submit is acknowledged (200, stored) or not
 * stored; a client that left before the answer retries with the same
 * envelope and learns which: 200, or 409 envelope_replayed. */
void pa_submit_run(pa_job *job);

#endif
