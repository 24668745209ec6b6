/* The one place a database status becomes an API answer: each route lists
 * only the answers of its own (docs/API.md); what every route answers alike
 * (an unreachable database, a status it does not expect) is written here. */
#ifndef PA_DB_REPLY_H
#define PA_DB_REPLY_H

#include "db.h"
#include "reply.h"
#include "result.h"

/* How a route answers one database status (docs/API.md). */
typedef struct {
    pa_db_status status;
    unsigned http_status;
    const char *code;    /* static */
    const char *message; /* static */
} pa_db_answer;

#define PA_DB_ANSWER_SESSION_NOT_FOUND                                                             \
    {PA_DB_NOT_FOUND, 404, "session_not_found", "No such session."}
#define PA_DB_ANSWERS_END {PA_DB_OK, 0, NULL, NULL}

/* The one mapping of a database status to a reply: 0 for PA_DB_OK (reply
 * untouched); otherwise -1 with the reply set: the route's own answer for
 * the status from answers (NULL, or ended by PA_DB_ANSWERS_END), else 503
 * database_unavailable for PA_DB_UNAVAILABLE, else 500 internal_error with
 * the message failed ("The session could not be stored."). */
PA_MUST_USE int pa_reply_db(pa_reply *r, pa_db_status st, const pa_db_answer *answers,
                            const char *failed);

/* 503 database_unavailable, counted in perfagg_db_errors_total. */
void pa_reply_db_unavailable(pa_reply *r);

#endif
