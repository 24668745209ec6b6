#include "db_reply.h"

#include "metrics.h"

int pa_reply_db(pa_reply *r, pa_db_status st, const pa_db_answer *answers, const char *failed)
{
    if (st == PA_DB_OK)
        return 0;
    for (const pa_db_answer *a = answers; a != NULL && a->code != NULL; a++) {
        if (a->status == st) {
            pa_reply_error(r, a->http_status, a->code, "%s", a->message);
            return -1;
        }
    }
    if (st == PA_DB_UNAVAILABLE)
        pa_reply_db_unavailable(r);
    else
        pa_reply_error(r, 500, "internal_error", "%s", failed);
    return -1;
}

void pa_reply_db_unavailable(pa_reply *r)
{
    pa_metrics_db_error();
    pa_reply_error(r, 503, "database_unavailable", "The database is not reachable; try again later.");
}
