/* Validation of everything a client sends, before any database or enclave
 * call: pure functions of the request (and the clock), so bad input is
 * refused with a stable 4xx code and changes nothing. */
#ifndef PA_VALIDATE_H
#define PA_VALIDATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc_contract.h"
#include "reply.h"
#include "result.h"
#include "uuid.h"

#define PA_BODY_MAX ((size_t)64 * 1024)
#define PA_TTL_DEFAULT_S 86400
#define PA_TTL_MIN_S 60
#define PA_WINDOW_DEFAULT_MS (30LL * 86400 * 1000)
/* The window, challenge and nonce limits are the enclave contract's
 * (PA_IPC_WINDOW_MAX_MS, PA_IPC_FUTURE_SLACK_MS, PA_IPC_CHALLENGE_MAX,
 * PA_IPC_NONCE_MAX): refused here with an API code, they can never reach the
 * enclave only to be refused there. */

/* True for application/json with optional parameters, case-insensitive; a
 * charset parameter, when present, must be utf-8 (RFC 8259 allows no other). */
int pa_validate_content_type(const char *content_type);

/* True when a Content-Length header value declares more than cap bytes. */
int pa_validate_declares_too_much(const char *content_length, size_t cap);

/* Parses a request body: strict JSON (duplicate keys refused) that must be an
 * object. invalid_json / invalid_request on failure. New reference. */
json_t *pa_validate_body(const char *data, size_t len, pa_http_error *err);

/* Names the first key of obj not in allowed (NULL-terminated) as a 400
 * invalid_request; 0 when every key is allowed. */
PA_MUST_USE int pa_validate_known_fields(const json_t *obj, const char *const *allowed,
                                         pa_http_error *err);

/* The server's policy on an envelope's (already shape-checked) metadata:
 * exchange "binance" (unsupported_exchange), ttl an integer in
 * [60, max_ttl_s] defaulting to 86400 (invalid_ttl), not_after a valid RFC
 * 3339 time after now (invalid_not_after). expires_at = min(now + ttl,
 * not_after). */
PA_MUST_USE int pa_validate_submit_policy(const json_t *metadata, int64_t now_ms,
                                          int64_t max_ttl_s, int64_t *expires_at_ms,
                                          pa_http_error *err);

/* A session id field: required string (invalid_request) in canonical UUID v4
 * form (invalid_session_id). Written lowercase to out. */
PA_MUST_USE int pa_validate_session_id(const json_t *body, char out[PA_UUID_STR_LEN],
                                       pa_http_error *err);

typedef struct {
    char session_id[PA_UUID_STR_LEN];
    int64_t from_ms;
    int64_t to_ms;
    const char *challenge; /* borrowed from the body; NULL when absent */
} pa_aggregates_request;

/* {session_id, from?, to?, challenge?}; null counts as absent. */
PA_MUST_USE int pa_validate_aggregates(const json_t *body, int64_t now_ms,
                                       pa_aggregates_request *out, pa_http_error *err);

/* {session_id} */
PA_MUST_USE int pa_validate_revoke(const json_t *body, char session_id[PA_UUID_STR_LEN],
                                   pa_http_error *err);

/* The /api/logs/{result_id} segment: a UUID v4 (invalid_result_id). */
PA_MUST_USE int pa_validate_result_id(const char *segment, char out[PA_UUID_STR_LEN],
                                      pa_http_error *err);

/* The optional ?nonce= of /attestation/quote (already percent-decoded; NULL
 * when absent): strict base64 of 1..64 bytes, else invalid_nonce. A space is
 * read as '+' because form decoding turns an unescaped '+' into one. *out is
 * a malloc'd canonical base64 string, or NULL when there is no nonce. */
PA_MUST_USE int pa_validate_nonce(const char *value, char **out, pa_http_error *err);

#endif
