/* GET /operator/sessions, /operator/aggregates, /operator/stats, /metrics.
 *
 * Order on the worker: authenticate (token lookup by id, constant-time hash
 * compare), then validate the query (so an anonymous caller learns nothing
 * about the parameters), then answer, then write the audit row. The audit
 * row is written for every outcome; when it cannot be written a successful
 * answer is withheld (503 audit_unavailable): nothing is served that is not
 * on record, as Vault refuses requests when no audit device can log them. */
#include "handler_operator.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "enclave_client.h"
#include "log.h"
#include "metrics.h"
#include "operator_db.h"

#define WWW_AUTH "Bearer realm=\"perfagg-operator\""
#define WWW_AUTH_INVALID "Bearer realm=\"perfagg-operator\", error=\"invalid_token\""

/* What the poll thread hands the worker: never the token itself. */
typedef struct {
    pa_opauth auth;
    char client[INET6_ADDRSTRLEN];
    long limit;
    long offset;
    const char *query_error; /* static message: a 400 once the caller is authorised */
} operator_req;

static void operator_req_clear(void *p)
{
    pa_opauth_clear(&((operator_req *)p)->auth);
}

typedef struct {
    operator_req *op;
    int paged;
    int limit_seen, offset_seen;
} query_scan;

/* A decimal in [min, max], digits only (no sign, no spaces, no leading
 * zeros but "0" itself). */
static int parse_count(const char *v, long min, long max, long *out)
{
    if (v == NULL || *v == '\0' || strlen(v) > 9 || (v[0] == '0' && v[1] != '\0'))
        return -1;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    long n = strtol(v, NULL, 10);
    if (n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static enum MHD_Result scan_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    query_scan *q = cls;
    operator_req *op = q->op;
    if (op->query_error != NULL)
        return MHD_YES;
    if (q->paged && key != NULL && strcmp(key, "limit") == 0) {
        if (q->limit_seen++ || parse_count(value, 1, PA_OPDB_LIMIT_MAX, &op->limit) != 0)
            op->query_error = "limit must be given once, as an integer from 1 to 500.";
    } else if (q->paged && key != NULL && strcmp(key, "offset") == 0) {
        if (q->offset_seen++ || parse_count(value, 0, PA_OPDB_OFFSET_MAX, &op->offset) != 0)
            op->query_error = "offset must be given once, as an integer from 0 to 1000000.";
    } else {
        op->query_error = q->paged ? "The only query parameters are limit and offset."
                                   : "This route takes no query parameters.";
    }
    return MHD_YES;
}

static enum MHD_Result count_auth(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    if (key != NULL && strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        (*(int *)cls)++;
    return MHD_YES;
}

static int capture(pa_job *job, struct MHD_Connection *conn, int paged)
{
    operator_req *op = pa_job_req_new(job, sizeof *op, operator_req_clear);
    if (op == NULL)
        return -1;
    op->limit = PA_OPDB_LIMIT_DEFAULT;

    int n_auth = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_auth, &n_auth);
    /* Two Authorization headers: which one counts would depend on who
     * reads them (a proxy may pick the other), so neither does. */
    if (n_auth > 1) {
        op->auth.state = PA_OPAUTH_MALFORMED;
    } else {
        pa_opauth_parse_header(
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            &op->auth);
    }

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, op->client,
                  sizeof op->client);
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, op->client,
                  sizeof op->client);

    query_scan q = {op, paged, 0, 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, scan_query, &q);
    return 0;
}

int pa_operator_prepare(pa_job *job, struct MHD_Connection *conn)
{
    return capture(job, conn, 0);
}

int pa_operator_paged_prepare(pa_job *job, struct MHD_Connection *conn)
{
    return capture(job, conn, 1);
}

/* 0 and outcome "allowed" when the caller is an operator; else -1 with the
 * reply (401 or 503) set. */
static int authenticate(pa_job *job, const char **outcome)
{
    operator_req *op = job->req;
    if (op->auth.state == PA_OPAUTH_MISSING) {
        *outcome = "missing";
        pa_reply_error(&job->reply, 401, "operator_token_required",
                       "This route needs an operator token: Authorization: Bearer <token>.");
        job->reply.www_authenticate = WWW_AUTH;
        return -1;
    }
    if (op->auth.state != PA_OPAUTH_PRESENT) {
        *outcome = "malformed";
        pa_reply_error(&job->reply, 401, "operator_token_invalid",
                       "The operator token is not valid.");
        job->reply.www_authenticate = WWW_AUTH_INVALID;
        return -1;
    }
    pa_optoken_verdict v = PA_OPTOKEN_UNKNOWN;
    if (pa_reply_db(&job->reply, pa_opdb_token_check(job->app->db, &op->auth, &v), NULL,
                    "The operator token could not be checked.") != 0) {
        *outcome = "database_unavailable";
        return -1;
    }
    *outcome = pa_optoken_verdict_name(v);
    if (v != PA_OPTOKEN_OK) {
        /* One answer for unknown, wrong, expired and revoked tokens: which
         * one it was is in the audit row, for the operator, not the caller. */
        pa_reply_error(&job->reply, 401, "operator_token_invalid",
                       "The operator token is not valid.");
        job->reply.www_authenticate = WWW_AUTH_INVALID;
        return -1;
    }
    return 0;
}

/* Read at scrape time: the active sessions from the database (one
 * partial-index count), the exchange calls from the enclave (the stats op,
 * counts only). Either missing leaves its series out rather than failing
 * the scrape. */
static void answer_metrics(pa_job *job, const operator_req *op)
{
    (void)op;
    pa_metrics_scrape sc = {-1, NULL};
    if (pa_opdb_active_sessions(job->app->db, &sc.active_sessions) != PA_DB_OK) {
        sc.active_sessions = -1;
        pa_metrics_db_error();
    }
    json_t *req = pa_ipc_request_stats(), *stats = NULL;
    pa_ipc_error code;
    if (req != NULL && pa_enclave_call(job->app->cfg.enclave_socket, PA_IPC_OP_STATS, req,
                                       &stats, &code) == PA_ENCLAVE_OK)
        sc.exchange_calls = json_object_get(stats, "exchange_calls");
    json_decref(req);
    char *text = pa_metrics_render_scrape(&sc);
    json_decref(stats);
    if (text == NULL)
        pa_reply_error(&job->reply, 500, "internal_error", "Out of memory.");
    else
        pa_reply_body(&job->reply, 200, PA_CT_METRICS, text);
}

/* A listing's JSON text (taken), or the database's failure. */
static void answer_json(pa_job *job, pa_db_status st, char *json)
{
    if (pa_reply_db(&job->reply, st, NULL, "The listing could not be read.") == 0)
        pa_reply_ok(&job->reply, json);
    else
        free(json);
}

static void answer_sessions(pa_job *job, const operator_req *op)
{
    char *json = NULL;
    pa_db_status st = pa_opdb_sessions(job->app->db, op->limit, op->offset, &json);
    answer_json(job, st, json);
}

static void answer_aggregates(pa_job *job, const operator_req *op)
{
    char *json = NULL;
    pa_db_status st = pa_opdb_aggregates(job->app->db, op->limit, op->offset, &json);
    answer_json(job, st, json);
}

static void answer_stats(pa_job *job, const operator_req *op)
{
    (void)op;
    char *json = NULL;
    pa_db_status st = pa_opdb_stats(job->app->db, &json);
    answer_json(job, st, json);
}

/* Authenticate, answer, audit: every operator route the same way. */
static void serve(pa_job *job, void (*answer)(pa_job *job, const operator_req *op))
{
    operator_req *op = job->req;
    const char *outcome = "malformed";
    if (authenticate(job, &outcome) != 0)
        pa_metrics_operator_refused(outcome);
    else if (op->query_error != NULL)
        pa_reply_error(&job->reply, 400, "invalid_query", "%s", op->query_error);
    else
        answer(job, op);
    pa_opdb_audit_entry e = {
        .token_id = op->auth.state == PA_OPAUTH_PRESENT ? op->auth.token_id : NULL,
        .route = job->route->tmpl,
        .status = job->reply.status,
        .client = op->client[0] != '\0' ? op->client : NULL,
        .outcome = outcome,
    };
    if (pa_opdb_audit(job->app->db, &e) != PA_DB_OK) {
        pa_log_warn("operator: %s %u could not be audited", e.route, e.status);
        if (job->reply.status < 400) {
            pa_reply_free(&job->reply);
            pa_metrics_db_error();
            pa_reply_error(&job->reply, 503, "audit_unavailable",
                           "The request could not be recorded in the audit log; try again later.");
        }
    }
    pa_opauth_clear(&op->auth);
}

void pa_operator_metrics_run(pa_job *job)
{
    serve(job, answer_metrics);
}

void pa_operator_sessions_run(pa_job *job)
{
    serve(job, answer_sessions);
}

void pa_operator_aggregates_run(pa_job *job)
{
    serve(job, answer_aggregates);
}

void pa_operator_stats_run(pa_job *job)
{
    serve(job, answer_stats);
}
