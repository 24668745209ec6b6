/* Pieces shared by the files of libperfagg_client; not part of its API. */
#ifndef PA_CLIENT_INTERNAL_H
#define PA_CLIENT_INTERNAL_H

#include <jansson.h>

#include "perfagg_client.h"
#include "timeutil.h"

/* ---- report.c ---- */
void pa_report_add(pa_verify_report *r, const char *name, pa_check_status status,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pa_client_set_error(pa_client_error *err, long http_status, const char *code,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- http.c ---- */
#define PA_CLIENT_TIMEOUT_SHORT 30L
/* Aggregation fetches a whole trade history from the exchange. */
#define PA_CLIENT_TIMEOUT_LONG 600L

/* One request to base_url + path (path starts with '/'). json_body NULL makes
 * a GET, otherwise a POST with Content-Type: application/json. 0 only on
 * HTTP 200, with the body in reply (caller-initialised; capped at
 * PA_CLIENT_RESPONSE_MAX). Otherwise err holds the API's {"error","message"}
 * or a client-side code. */
PA_MUST_USE int pa_client_http(const char *base_url, const char *path, const char *json_body,
                               long timeout_s, pa_buf *reply, pa_client_error *err);
/* The same, also taking HTTP 202 (an aggregate job: docs/API.md) when
 * status_out is not NULL; *status_out is 200 or 202. */
PA_MUST_USE int pa_client_http_status(const char *base_url, const char *path,
                                      const char *json_body, long timeout_s, pa_buf *reply,
                                      long *status_out, pa_client_error *err);

/* ---- text.c ---- */
/* Length of the well-formed UTF-8 sequence at s (at most n bytes) with its
 * code point in *cp, or 0 (overlong forms, surrogates, past U+10FFFF,
 * truncated). */
size_t pa_client_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
/* 1 for the code points pa_client_escape escapes: C0, DEL, C1, and the
 * bidirectional controls. */
int pa_client_char_is_control(uint32_t cp);

/* ---- files.c ---- */
/* Reads fd to its end into buf (caller-initialised); fails past cap bytes. */
PA_MUST_USE int pa_client_read_fd(int fd, size_t cap, pa_buf *buf);

/* ---- attestation_check.c ---- */
typedef struct {
    uint8_t *quote; /* decoded COSE_Sign1, malloc'd */
    size_t quote_len;
    uint8_t enclave_pubkey[32];
    uint8_t signing_pubkey[32];
    char image_hash[PA_CLIENT_HEX_PCR_LEN];
    /* set by the caller for an enclave-made key's quote (keygen.c): then
     * user_data must be the keygen binding of these, not the key binding */
    int keygen;
    uint8_t api_pubkey[32];
    char key_id[PA_UUID_STR_LEN];
} pa_attestation_fields;

/* Parses {quote, enclave_pubkey, signing_pubkey, image_hash}. On failure *why
 * names the problem. */
PA_MUST_USE int pa_attestation_fields_parse(const json_t *att, pa_attestation_fields *f,
                                            const char **why);
void pa_attestation_fields_free(pa_attestation_fields *f);

/* When and how closely the document's time is checked. */
typedef struct {
    int64_t at_ms;       /* the chain must hold then */
    int64_t max_skew_ms; /* the document's timestamp within this of at_ms */
    const char *what;    /* "now", "payload.issued_at": for the report */
} pa_attestation_time;

/* Adds attestation, attestation_nonce, attestation_public_key,
 * attestation_key_binding, image_hash and (when an image hash or a PCR is
 * expected, or root is AWS's) expected_image_hash to r. nonce_what describes
 * the nonce for the report. payload_image_hash, when non-NULL, must equal
 * PCR0 too. Fills the key and document fields of out (not out->report). */
void pa_attestation_check(const pa_attestation_fields *f, const uint8_t *nonce, size_t nonce_len,
                          const char *nonce_what, X509 *root, const pa_client_expect *expect,
                          const pa_attestation_time *when, const char *payload_image_hash,
                          pa_client_attestation *out, pa_verify_report *r);

#endif
