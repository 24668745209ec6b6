/* GET /api/logs/{result_id} (handler_logs.c). */
#ifndef PA_HANDLER_LOGS_H
#define PA_HANDLER_LOGS_H

#include "handlers.h"

PA_MUST_USE int pa_logs_prepare(pa_job *job, struct MHD_Connection *conn);
void pa_logs_run(pa_job *job);

#endif
