/* The session calls: submit a sealed envelope, revoke a session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "json_strict.h"

int pa_client_submit(const char *base_url, const char *body, pa_client_session *out,
                     pa_client_error *err)
{
    int rc = -1;
    json_t *j = NULL;
    pa_buf reply;
    pa_buf_init(&reply, PA_CLIENT_RESPONSE_MAX);
    memset(out, 0, sizeof *out);
    if (body == NULL) {
        pa_client_set_error(err, 0, "invalid_input", "no submit body");
        goto cleanup;
    }
    PA_GUARD_GOTO(pa_client_http(base_url, "/enclave/submit_key", body, PA_CLIENT_TIMEOUT_SHORT,
                                 &reply, err),
                  cleanup);
    j = pa_json_parse((const char *)reply.data, reply.len, PA_CLIENT_RESPONSE_MAX);
    const char *sid = pa_json_str(j, "session_id");
    const char *exp = pa_json_str(j, "expires_at");
    if (sid == NULL || !pa_uuid_valid(sid) || exp == NULL ||
        strlen(exp) >= sizeof out->expires_at) {
        pa_client_set_error(err, 200, "bad_response",
                            "the server's answer has no valid session_id and expires_at");
        goto cleanup;
    }
    snprintf(out->session_id, sizeof out->session_id, "%s", sid);
    snprintf(out->expires_at, sizeof out->expires_at, "%s", exp);
    rc = 0;
cleanup:
    json_decref(j);
    pa_buf_free(&reply);
    return rc;
}

int pa_client_revoke(const char *base_url, const char *session_id, char *message,
                     size_t message_len, pa_client_error *err)
{
    int rc = -1;
    json_t *req = NULL, *j = NULL;
    char *body = NULL;
    pa_buf reply;
    pa_buf_init(&reply, PA_CLIENT_RESPONSE_MAX);
    if (session_id == NULL || !pa_uuid_valid(session_id)) {
        pa_client_set_error(err, 0, "invalid_input", "the session id is not a UUID");
        goto cleanup;
    }
    req = json_pack("{s:s}", "session_id", session_id);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (body == NULL) {
        pa_client_set_error(err, 0, "internal_error", "out of memory");
        goto cleanup;
    }
    PA_GUARD_GOTO(pa_client_http(base_url, "/enclave/revoke", body, PA_CLIENT_TIMEOUT_SHORT,
                                 &reply, err),
                  cleanup);
    j = pa_json_parse((const char *)reply.data, reply.len, PA_CLIENT_RESPONSE_MAX);
    if (!json_is_true(json_object_get(j, "success"))) {
        pa_client_set_error(err, 200, "bad_response", "the server did not confirm the revocation");
        goto cleanup;
    }
    const char *msg = pa_json_str(j, "message");
    if (message != NULL && message_len > 0)
        snprintf(message, message_len, "%s", msg ? msg : "Session revoked");
    rc = 0;
cleanup:
    pa_free_secret_str(body); /* holds the session id */
    json_decref(req);
    json_decref(j);
    pa_buf_free(&reply);
    return rc;
}
