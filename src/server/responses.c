#include "responses.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_strict.h"
#include "timeutil.h"
#include "uuid.h"

#define BODY_CAP (64u << 20)

static char *dump(json_t *o)
{
    if (o == NULL)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

char *pa_body_submit(const char *session_id, int64_t expires_at_ms)
{
    char ts[PA_TIME_STR_LEN];
    pa_time_format(expires_at_ms, ts);
    return dump(json_pack("{s:s, s:s}", "session_id", session_id, "expires_at", ts));
}

char *pa_body_aggregates(const pa_aggregate_answer *a)
{
    pa_buf b;
    pa_buf_init(&b, BODY_CAP);
    /* signature, merkle_root and result_id were checked to be base64, hex and
     * a UUID, so they need no escaping; payload and attestation are JSON */
    PA_GUARD_GOTO(pa_buf_printf(&b, "{\"aggregates_signed\":{\"signature\":\"%s\",\"payload\":",
                                a->signature),
                  fail);
    PA_GUARD_GOTO(pa_buf_append_str(&b, a->payload_jcs), fail);
    PA_GUARD_GOTO(pa_buf_printf(&b,
                                "},\"merkle_root\":\"%s\",\"logs_url\":\"/api/logs/%s\","
                                "\"attestation\":",
                                a->merkle_root, a->result_id),
                  fail);
    PA_GUARD_GOTO(pa_buf_append_str(&b, a->attestation_json), fail);
    PA_GUARD_GOTO(pa_buf_append_str(&b, "}"), fail);
    return pa_buf_steal(&b);

fail:
    pa_buf_free(&b);
    return NULL;
}

static int is_hex64(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

char *pa_body_logs(const char *result_id, const pa_db_logs *logs)
{
    if (!pa_uuid_valid(result_id) || !is_hex64(logs->merkle_root))
        return NULL;
    pa_buf b;
    pa_buf_init(&b, BODY_CAP);
    PA_GUARD_GOTO(pa_buf_printf(&b,
                                "{\"result_id\":\"%s\",\"tree_size\":%zu,\"merkle_root\":\"%s\","
                                "\"entries\":[",
                                result_id, logs->n, logs->merkle_root),
                  fail);
    for (size_t i = 0; i < logs->n; i++) {
        const char *e = logs->entries[i];
        const char *h = logs->leaf_hashes[i];
        /* the database is outside the enclave: serve only well-formed JSON */
        json_t *parsed = e != NULL ? pa_json_parse(e, strlen(e), BODY_CAP) : NULL;
        int ok = json_is_object(parsed);
        json_decref(parsed);
        PA_ENSURE_GOTO(ok && is_hex64(h), fail);
        PA_GUARD_GOTO(pa_buf_printf(&b, "%s{\"index\":%zu,\"entry\":", i > 0 ? "," : "", i), fail);
        PA_GUARD_GOTO(pa_buf_append_str(&b, e), fail);
        PA_GUARD_GOTO(pa_buf_printf(&b, ",\"leaf_hash\":\"%s\"}", h), fail);
    }
    PA_GUARD_GOTO(pa_buf_append_str(&b, "]}"), fail);
    return pa_buf_steal(&b);

fail:
    pa_buf_free(&b);
    return NULL;
}

char *pa_body_quote(const pa_attest_answer *a)
{
    return dump(json_pack("{s:s, s:s, s:s, s:s}", "quote", a->quote, "enclave_pubkey",
                          a->enclave_pubkey, "signing_pubkey", a->signing_pubkey, "image_hash",
                          a->image_hash));
}

char *pa_body_revoked(void)
{
    return dump(json_pack("{s:b, s:s}", "success", 1, "message", "Session revoked and data purged"));
}

/* The four possible answers written out, not built as a JSON tree per
 * request: /health is what load balancers call most, and json_pack +
 * json_dumps were 9 % of the server's CPU on it (docs/BENCHMARKS.md, "Where
 * the time goes"). */
char *pa_body_health(int database_ok, int enclave_ok, unsigned *status)
{
    static const char *const bodies[2][2] = {
        {"{\"status\":\"degraded\",\"database\":\"down\",\"enclave\":\"down\"}",
         "{\"status\":\"degraded\",\"database\":\"down\",\"enclave\":\"ok\"}"},
        {"{\"status\":\"degraded\",\"database\":\"ok\",\"enclave\":\"down\"}",
         "{\"status\":\"ok\",\"database\":\"ok\",\"enclave\":\"ok\"}"},
    };
    int ok = database_ok && enclave_ok;
    *status = ok ? 200 : 503;
    return strdup(bodies[database_ok ? 1 : 0][enclave_ok ? 1 : 0]);
}
