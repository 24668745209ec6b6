/* The host's aggregate jobs (src/server/jobs.h) and their routes, without an
 * enclave: a job whose enclave cannot be reached fails at once with
 * enclave_unavailable, and its state reads as docs/API.md ("Aggregate jobs")
 * says. The succeeding path runs against the real processes in
 * tests/integration/test_jobs.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ipc_host.h"
#include "jobs.h"
#include "router.h"
#include "timeutil.h"
#include "uuid.h"

#define KEY32 "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="
#define ENVELOPE                                                                                   \
    "{\"ephemeral_pub\":\"" KEY32 "\",\"nonce\":\"wWRDiIJ/3Elop/4f\",\"ciphertext\":\"AAAA\","     \
    "\"tag\":\"8YT4tqQVKEjVGO34GAGo0Q==\",\"metadata\":{\"exchange\":\"binance\",\"label\":\"m\"}" \
    "}"
#define SESSION "0b6d4c3e-8f2a-4c1b-9d3e-5f6a7b8c9d0e"

static void test_routes(void **state)
{
    (void)state;
    const pa_route *r;
    const char *param;
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs", "POST", &r, &param), PA_MATCH_OK);
    assert_int_equal(r->id, PA_ROUTE_JOBS);
    assert_true(r->has_body && r->rate_limited);
    assert_null(param);
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs/" SESSION, "GET", &r, &param),
                     PA_MATCH_OK);
    assert_int_equal(r->id, PA_ROUTE_JOB_STATUS);
    assert_string_equal(param, SESSION);
    assert_false(r->rate_limited); /* polled for minutes */
    assert_string_equal(r->tmpl, "/enclave/aggregate_jobs/{job_id}"); /* what logs show */
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs/x", "POST", &r, &param),
                     PA_MATCH_BAD_METHOD);
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs", "GET", &r, &param),
                     PA_MATCH_BAD_METHOD);
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs/", "GET", &r, &param),
                     PA_MATCH_NOT_FOUND);
    assert_int_equal(pa_router_match("/enclave/aggregate_jobs/a/b", "GET", &r, &param),
                     PA_MATCH_NOT_FOUND);
}

static json_t *start_request(void)
{
    json_t *env = json_loads(ENVELOPE, 0, NULL);
    json_t *req = pa_ipc_request_aggregate_start(env, KEY32, "2025-01-01T00:00:00Z",
                                                 "2025-02-01T00:00:00Z", NULL);
    json_decref(env);
    assert_non_null(req);
    return req;
}

static json_t *body_of(const pa_reply *r)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_unreachable_enclave_fails_the_job(void **state)
{
    (void)state;
    pa_jobs_config cfg = {"/nonexistent/perfagg-test.sock", NULL, 100};
    pa_jobs *j = pa_jobs_new(&cfg);
    assert_non_null(j);
    char id[PA_UUID_STR_LEN];
    pa_reply r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pa_jobs_submit(j, SESSION, start_request(), id, &r), 0);
    assert_true(pa_uuid_valid(id));
    assert_string_not_equal(id, SESSION);

    /* request_aggregates' wait: the job's outcome, as the route answers it */
    assert_int_equal(pa_jobs_wait(j, id, 10000, NULL, NULL, &r), 1);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.error_code, "enclave_unavailable");
    json_t *b = body_of(&r);
    assert_string_equal(json_string_value(json_object_get(b, "error")), "enclave_unavailable");
    /* the start itself failed: the usual sentence */
    assert_non_null(strstr(json_string_value(json_object_get(b, "message")), "not reachable"));
    json_decref(b);
    pa_reply_free(&r);

    /* GET /enclave/aggregate_jobs/{job_id} */
    memset(&r, 0, sizeof r);
    pa_jobs_status(j, id, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.retry_after_s, 0); /* finished: nothing to poll for */
    b = body_of(&r);
    char url[96];
    snprintf(url, sizeof url, "/enclave/aggregate_jobs/%s", id);
    assert_string_equal(json_string_value(json_object_get(b, "job_id")), id);
    assert_string_equal(json_string_value(json_object_get(b, "status_url")), url);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "failed");
    assert_true(json_is_string(json_object_get(b, "finished_at")));
    assert_null(json_object_get(b, "result"));
    const json_t *e = json_object_get(b, "error");
    assert_string_equal(json_string_value(json_object_get(e, "error")), "enclave_unavailable");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 503);
    const json_t *p = json_object_get(b, "progress");
    assert_int_equal(json_object_size(p), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "pages")), 0);
    assert_null(strstr(r.body, SESSION)); /* no job body names the session */
    json_decref(b);
    pa_reply_free(&r);

    /* unknown ids; the session's revocation leaves a failed job failed */
    memset(&r, 0, sizeof r);
    pa_jobs_status(j, SESSION, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.error_code, "job_not_found");
    pa_reply_free(&r);
    pa_jobs_session_revoked(j, SESSION);
    memset(&r, 0, sizeof r);
    pa_jobs_status(j, id, &r);
    b = body_of(&r);
    assert_string_equal(json_string_value(json_object_get(b, "status")), "failed");
    json_decref(b);
    pa_reply_free(&r);

    /* a stopping server takes no new job */
    assert_int_equal(pa_jobs_stop(j, 5000), 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(pa_jobs_submit(j, SESSION, start_request(), id, &r), -1);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.error_code, "server_busy");
    pa_reply_free(&r);
    pa_jobs_free(j);
}

static int waiter_gone(const void *ctx)
{
    return *(const int *)ctx;
}

/* request_aggregates' wait asks whether its client is still there: gone,
 * the wait ends without waiting its time out, with nothing answered; still
 * there, it waits its time out and answers 202. */
static void test_waiter_gone_ends_the_wait(void **state)
{
    (void)state;
    /* an "enclave" that takes connections into its backlog and never answers */
    char dir[] = "/tmp/pa-jobs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/enclave.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 64), 0);

    pa_jobs_config cfg = {sa.sun_path, NULL, 100};
    pa_jobs *j = pa_jobs_new(&cfg);
    assert_non_null(j);
    char id[PA_UUID_STR_LEN];
    pa_reply r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pa_jobs_submit(j, SESSION, start_request(), id, &r), 0);

    int here = 0;
    int64_t t0 = pa_now_ms();
    assert_int_equal(pa_jobs_wait(j, id, 600, waiter_gone, &here, &r), 0);
    assert_int_equal(r.status, 202);
    assert_true(pa_now_ms() - t0 >= 500);
    pa_reply_free(&r);

    int gone = 1;
    memset(&r, 0, sizeof r);
    t0 = pa_now_ms();
    assert_int_equal(pa_jobs_wait(j, id, 30000, waiter_gone, &gone, &r), -1);
    assert_true(pa_now_ms() - t0 < 10000); /* not its 30 s: it asked, and ended */
    assert_int_equal(r.status, 0);
    assert_null(r.body);

    close(fd); /* resets the connection the runner waits on */
    assert_int_equal(pa_jobs_stop(j, 20000), 0);
    pa_jobs_free(j);
    unlink(sa.sun_path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_unreachable_enclave_fails_the_job),
        cmocka_unit_test(test_waiter_gone_ends_the_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
