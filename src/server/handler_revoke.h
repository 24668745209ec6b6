/* POST /enclave/revoke (handler_revoke.c). */
#ifndef PA_HANDLER_REVOKE_H
#define PA_HANDLER_REVOKE_H

#include "handlers.h"

PA_MUST_USE int pa_revoke_prepare(pa_job *job, struct MHD_Connection *conn);
void pa_revoke_run(pa_job *job);

#endif
