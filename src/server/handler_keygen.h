/* POST /enclave/keygen (handler_keygen.c). */
#ifndef PA_HANDLER_KEYGEN_H
#define PA_HANDLER_KEYGEN_H

#include "handlers.h"

PA_MUST_USE int pa_keygen_prepare(pa_job *job, struct MHD_Connection *conn);
void pa_keygen_run(pa_job *job);

#endif
