/* The operator routes (/operator/sessions, /operator/aggregates,
 * /operator/stats) and /metrics: bearer-token access (operator_auth.h), every
 * request audited in ops_logs (operator_db.h). docs/OPERATIONS.md. */
#ifndef PA_HANDLER_OPERATOR_H
#define PA_HANDLER_OPERATOR_H

#include <netinet/in.h>

#include "operator_auth.h"
#include "router.h"

struct MHD_Connection;

/* What the poll thread hands the worker: never the token itself. */
typedef struct {
    pa_opauth auth;
    char client[INET6_ADDRSTRLEN];
    long limit;
    long offset;
    const char *query_error; /* static message: a 400 once the caller is authorised */
} pa_operator_req;

/* 1 for the routes that need an operator token. */
int pa_operator_route(pa_route_id id);

#endif
