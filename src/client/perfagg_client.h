/* libperfagg_client: what a trader or a verifier runs on their own machine.
 *
 *   attest   fresh nonce -> GET /attestation/quote -> checks against a root the
 *            caller chose (the pinned AWS Nitro root, or an explicit dev root)
 *            at the current time; or, offline, one document as of a given
 *            time (pa_client_check_document, for auditors)
 *   seal     credentials -> envelope sealed to the attested enclave key
 *   bundle   request_aggregates + logs -> {version, response, logs}, spliced
 *            byte for byte
 *   verify   a bundle, offline: attestation, key binding, Ed25519 over
 *            JCS(payload), Merkle root recomputed from the logs
 *
 * Every check that decides whether something is trusted is reported by name
 * (pa_verify_report), so a front end prints the report and never re-derives
 * a verdict. Secrets travel only in pa_buf (wiped on free), never in a
 * jansson value (jansson frees without wiping). Call curl_global_init() once
 * before the functions that talk HTTP. */
#ifndef PA_CLIENT_H
#define PA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "attest_verify.h"
#include "buf.h"
#include "result.h"
#include "uuid.h"

#define PA_CLIENT_DEFAULT_URL "http://127.0.0.1:3000"
#define PA_CLIENT_RESPONSE_MAX ((size_t)16 << 20) /* any one HTTP answer */
#define PA_CLIENT_BUNDLE_MAX (2 * PA_CLIENT_RESPONSE_MAX + 4096)
/* The most read from one secret file. The enclave takes at most
 * PA_SECRET_MAX bytes (envelope.h); longer values are read so that they can
 * be refused with that reason, not as an unreadable file. */
#define PA_CLIENT_SECRET_MAX 4096
#define PA_CLIENT_NONCE_LEN 32
#define PA_CLIENT_HEX_PCR_LEN (2 * PA_PCR_LEN + 1)
/* The server's ttl when the metadata names none; also the default lifetime
 * of metadata.not_after. */
#define PA_CLIENT_DEFAULT_TTL 86400
#define PA_CLIENT_NOT_AFTER_MAX 64
/* Where the CLI takes the expected image hash from when --image-hash is not
 * given. */
#define PA_CLIENT_IMAGE_HASH_ENV "PERFAGG_IMAGE_HASH"
/* Any genuine Nitro enclave chains to the AWS root, whatever image it runs:
 * under that root only a pinned PCR0 says which code holds the keys. */
#define PA_CLIENT_IMAGE_HASH_REQUIRED                                                    \
    "with the AWS Nitro root you must say which enclave image you trust: --image-hash or " \
    "PERFAGG_IMAGE_HASH"
/* A live check (attest, submit, seal) refuses a document whose timestamp is
 * further than this from the current time, either way: an attestation is
 * evidence about now, and the enclave made it for the nonce we just sent.
 * Overridden by --max-age SECONDS or $PERFAGG_ATTEST_MAX_AGE. */
#define PA_CLIENT_MAX_AGE_DEFAULT_S 300
#define PA_CLIENT_MAX_AGE_ENV "PERFAGG_ATTEST_MAX_AGE"
#define PA_CLIENT_MAX_AGE_MAX_S 86400
/* A bundle's attestation is made right after its payload: its timestamp must
 * be within this of payload.issued_at. */
#define PA_CLIENT_BUNDLE_SKEW_MS ((int64_t)120 * 1000)
/* The largest document file pa_client_read_document reads (base64 of a
 * PA_ATTEST_DOC_MAX document, with line breaks). */
#define PA_CLIENT_DOCUMENT_FILE_MAX ((size_t)64 * 1024)

/* ---- errors ----------------------------------------------------------------- */

typedef struct {
    long http_status; /* 0 when there was no HTTP answer */
    char code[64];    /* the API's stable code, or a client one: network, bad_response, ... */
    char message[512];
} pa_client_error;

/* ---- check reports ---------------------------------------------------------- */

typedef enum {
    PA_CHECK_OK,
    PA_CHECK_FAILED,
    PA_CHECK_SKIPPED /* could not be evaluated because an earlier check failed */
} pa_check_status;

typedef struct {
    char name[32]; /* stable: tests and scripts match on it */
    pa_check_status status;
    char detail[512]; /* an attestation failure lists every reason */
} pa_check;

#define PA_REPORT_MAX_CHECKS 24

typedef struct {
    pa_check checks[PA_REPORT_MAX_CHECKS];
    size_t n;
    int overflow;         /* more checks than fit: never "passed" */
    int development;      /* checked against a root that is not AWS's */
    char environment[16]; /* a bundle's payload.environment, "" otherwise */
} pa_verify_report;

/* 1 when there is at least one check and every check is PA_CHECK_OK. */
int pa_verify_report_passed(const pa_verify_report *r);
/* The check called name, or NULL when the report has none. */
const pa_check *pa_verify_report_get(const pa_verify_report *r, const char *name);
/* "ok", "FAILED", "skipped". */
const char *pa_check_status_str(pa_check_status s);

/* ---- roots -------------------------------------------------------------------- */

/* dev_root_path NULL: the AWS Nitro root compiled in, checked against its pin.
 * Otherwise the PEM file the user named. Roots are never taken from a server. */
X509 *pa_client_load_root(const char *dev_root_path);
/* 1 when root is the AWS Nitro Enclaves Root G1 (by SHA-256 of its DER). */
int pa_client_root_is_aws(X509 *root);

/* ---- attestation ------------------------------------------------------------- */

/* What the caller expects of an attestation, beyond authenticity. A zeroed
 * struct (or NULL) means: no pinned image, no further PCRs, the clock, the
 * default age, and no bundle checks. */
typedef struct {
    const char *image_hash; /* the PCR0 you trust (96 hex digits), or NULL */
    /* further PCRs that must be present and equal: bit i -> pcrs[i]
     * (bit 0 is ignored: PCR0 is image_hash) */
    uint32_t pcr_mask;
    uint8_t pcrs[PA_ATTEST_PCR_COUNT][PA_PCR_LEN];
    /* live checks (quotes) only */
    int64_t now_ms;     /* 0: the clock */
    int64_t max_age_ms; /* 0: PA_CLIENT_MAX_AGE_DEFAULT_S */
    /* bundles only */
    const char *challenge;  /* NULL: not checked; else payload.challenge must equal it */
    const char *not_before; /* RFC 3339 or NULL: payload.from must not be earlier */
    const char *not_after;  /* RFC 3339 or NULL: payload.to must not be later */
} pa_client_expect;

typedef struct {
    uint8_t enclave_pubkey[32];             /* X25519: what credentials are sealed to */
    uint8_t signing_pubkey[32];             /* Ed25519: what signs aggregates */
    char image_hash[PA_CLIENT_HEX_PCR_LEN]; /* hex PCR0 from the verified document */
    char module_id[128];
    int64_t timestamp_ms;
    pa_verify_report report;
} pa_client_attestation;

/* Checks a GET /attestation/quote answer (JSON text) for the nonce we sent:
 * response_format, attestation (strict COSE, signature, chain to root AT THE
 * CURRENT TIME (expect->now_ms), a signing leaf, the document's timestamp
 * within the leaf's validity and within expect->max_age_ms of now, not a
 * debug enclave), then attestation_nonce, attestation_public_key,
 * attestation_key_binding, image_hash and expected_image_hash (PCR0 and any
 * further expected PCRs). expected_image_hash is there whenever an image
 * hash or a PCR is given, and also when root is the AWS root and no image
 * hash is: then it FAILS, because the AWS root vouches for every Nitro
 * enclave, whatever image it runs (PA_CLIENT_IMAGE_HASH_REQUIRED). Under a
 * development root the expected image is optional. 0 only when every check
 * passed; out->report says which did not. */
PA_MUST_USE int pa_client_check_quote(const char *json, size_t len, const uint8_t *nonce,
                                      size_t nonce_len, X509 *root, const pa_client_expect *expect,
                                      pa_client_attestation *out);

/* A fresh 32-byte nonce, GET /attestation/quote?nonce=..., pa_client_check_quote.
 * 0 only when every check passed. When the quote could not be fetched, err is
 * filled and out->report is empty; when a check failed, err->code is
 * "attestation_failed". */
PA_MUST_USE int pa_client_attest(const char *base_url, X509 *root, const pa_client_expect *expect,
                                 pa_client_attestation *out, pa_client_error *err);

/* An auditor's offline check of one document (perfagg attest --document). */
typedef struct {
    int64_t at_ms;      /* the time the document must be valid at; 0: the clock */
    int64_t max_age_ms; /* 0: PA_CLIENT_MAX_AGE_DEFAULT_S; the timestamp vs at_ms */
    int allow_debug;
    uint32_t pcr_mask; /* bit i: PCR i must equal pcrs[i] */
    uint8_t pcrs[PA_ATTEST_PCR_COUNT][PA_PCR_LEN];
    const uint8_t *nonce; /* NULL: not checked */
    size_t nonce_len;
    int check_keys; /* public_key = enclave_pubkey, user_data = the key binding */
    uint8_t enclave_pubkey[32], signing_pubkey[32];
} pa_client_document_expect;

/* Verifies doc (COSE_Sign1 bytes) against root under e and reports each
 * check: document_format, signature, certificate_chain, timestamp,
 * debug_mode, and when asked expected_pcrs, nonce, public_key, key_binding.
 * Every check that can be evaluated is, so a failed report names every
 * reason. claims is filled when the document is authentic. 0 only when every
 * check passed. A pass proves the document valid as of e->at_ms only: Nitro
 * certificates have no revocation. */
PA_MUST_USE int pa_client_check_document(const uint8_t *doc, size_t len, X509 *root,
                                         const pa_client_document_expect *e,
                                         pa_attest_claims *claims, pa_verify_report *out);

/* Reads an attestation document file: base64 text (whitespace and line
 * breaks allowed) or the raw COSE bytes. doc must be initialised by the
 * caller. */
PA_MUST_USE int pa_client_read_document(const char *path, pa_buf *doc, pa_client_error *err);

/* ---- credentials ------------------------------------------------------------ */

/* Reads the credentials. Each path names a file, or "-" for standard input:
 * the fields given as "-" take successive lines of stdin in the order apiKey,
 * apiSecret, passphrase. One trailing newline ("\n" or "\r\n") is stripped
 * from a file; anything else that is empty or multi-line is refused.
 * pass_path may be NULL (no passphrase; pass is left empty). The pa_bufs
 * must be initialised by the caller and are wiped when freed. */
PA_MUST_USE int pa_client_read_secrets(const char *key_path, const char *secret_path,
                                       const char *pass_path, pa_buf *key, pa_buf *secret,
                                       pa_buf *pass, pa_client_error *err);

typedef struct {
    const char *exchange;     /* required; also the plaintext's exchange */
    const char *label;        /* required */
    int64_t ttl;              /* seconds; 0 = server default */
    const char *not_after;    /* RFC 3339, or NULL: now + (ttl or 86400 s) */
    const pa_buf *api_key;    /* required */
    const pa_buf *api_secret; /* required */
    const pa_buf *passphrase; /* NULL or empty: absent */
    const char *symbols;      /* "BTCUSDT,ETHUSDT", or NULL */
    const uint8_t *account_salt; /* PA_CLIENT_ACCOUNT_SALT_LEN bytes, or NULL: no account_id */
    int disclose_uid;            /* the payload carries the account's uid itself */
    const char *account_type; /* "spot" or "usdm", or NULL: absent (spot) */
} pa_client_submission;

/* accountSalt (docs/PROTOCOL.md, "Whose account"): 32 random bytes. */
#define PA_CLIENT_ACCOUNT_SALT_LEN 32

/* Seals the credentials to enclave_pub (which the caller attested) and returns
 * the submit body {ephemeral_pub, nonce, ciphertext, tag, metadata} as
 * malloc'd JSON text. The plaintext exists only inside this call, in a
 * wiped buffer. Metadata is checked with the server's own rules first, and
 * the credentials with the enclave's (PA_SECRET_MAX, PA_SYMBOL_MIN_LEN ..
 * PA_SYMBOLS_MAX in envelope.h, no repeated symbol), so nothing is sealed
 * that either would refuse. metadata.not_after is always set: in->not_after
 * when given (it must be in the future), else now + (ttl or
 * PA_CLIENT_DEFAULT_TTL), as pa_client_resolve_not_after does. */
PA_MUST_USE int pa_client_seal(const uint8_t enclave_pub[32], const pa_client_submission *in,
                               char **body_out, pa_client_error *err);

/* The metadata.not_after pa_client_seal uses: given verbatim when it is an
 * RFC 3339 time after now_ms, else (given NULL) now_ms + (ttl or
 * PA_CLIENT_DEFAULT_TTL) seconds formatted like 2026-11-23T22:17:34.123Z.
 * The enclave refuses the envelope after that time by its own clock. */
PA_MUST_USE int pa_client_resolve_not_after(int64_t now_ms, int64_t ttl, const char *given,
                                            char out[PA_CLIENT_NOT_AFTER_MAX],
                                            pa_client_error *err);

/* ---- API calls ---------------------------------------------------------------- */

/* 0 when url is http(s)://host[:port][/prefix] with no query or fragment. */
PA_MUST_USE int pa_client_check_base_url(const char *url);

typedef struct {
    char session_id[PA_UUID_STR_LEN];
    char expires_at[64];
} pa_client_session;

/* POST /enclave/submit_key with a body from pa_client_seal. */
PA_MUST_USE int pa_client_submit(const char *base_url, const char *body, pa_client_session *out,
                                 pa_client_error *err);

/* POST /enclave/revoke; message receives the server's sentence. */
PA_MUST_USE int pa_client_revoke(const char *base_url, const char *session_id, char *message,
                                 size_t message_len, pa_client_error *err);

/* POST /enclave/request_aggregates {session_id, from?, to?, challenge?}, then
 * GET its logs_url, and builds the bundle text
 *   {"version":1,"response":<answer as received>,"logs":<logs as served>}
 * into bundle (caller-initialised). Both answers are spliced byte for byte,
 * never re-serialised, and the session id must appear in neither. */
PA_MUST_USE int pa_client_fetch_bundle(const char *base_url, const char *session_id,
                                       const char *from, const char *to, const char *challenge,
                                       pa_buf *bundle, pa_client_error *err);

/* Writes data to path with mode 0644 through a temporary file in the same
 * directory, fsync and rename, so path is either the old file or the whole
 * new one. */
PA_MUST_USE int pa_client_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                                            pa_client_error *err);

/* Reads a whole file (at most cap bytes) into buf (caller-initialised). */
PA_MUST_USE int pa_client_read_file(const char *path, size_t cap, pa_buf *buf,
                                    pa_client_error *err);

/* ---- verification ------------------------------------------------------------- */

/* Verifies a result bundle offline. Checks, in order: bundle_format,
 * attestation (against root, AS OF payload.issued_at: the chain holds then,
 * the document's timestamp is within PA_CLIENT_BUNDLE_SKEW_MS of it and
 * inside the leaf's validity; debug documents refused), attestation_nonce
 * (= SHA-256(JCS(payload))), attestation_public_key,
 * attestation_key_binding, image_hash (PCR0 = attestation.image_hash =
 * payload.image_hash), expected_image_hash (when given; with the AWS root
 * always, and FAILED when not given, as in pa_client_check_quote),
 * payload_signature, payload_type, merkle_leaves, merkle_root, result_id,
 * environment (under the AWS root: payload.environment "production" and
 * payload.scope.exchange_base_url the built-in one), and when asked
 * challenge and window. 0 only when every check passed. */
PA_MUST_USE int pa_client_verify_bundle(const char *bundle_json, size_t len, X509 *root,
                                        const pa_client_expect *expect, pa_verify_report *out);

/* The numbers of a bundle's payload, as display strings (numbers in their
 * JCS form). Nothing here is verified, and the strings are the sender's
 * bytes: print them through pa_client_escape, next to a verify report. */
typedef struct {
    char result_id[PA_UUID_STR_LEN];
    char exchange[32];
    char label[4 * 64 + 1]; /* 64 code points of up to 4 bytes */
    char currency[16];
    char pnl[40], sharpe[40], volume[40], unmatched_qty[40];
    char trades[24], excluded_trades[24], unpriced_fees[24];
    char from[40], to[40], issued_at[40];
    char merkle_root[2 * 32 + 1];
    char image_hash[PA_CLIENT_HEX_PCR_LEN];
    char environment[16];
    char challenge[4 * 128 + 1]; /* 128 code points; "" when null */
    char account_id[2 * 32 + 1]; /* "" when null or absent */
    char account_uid[64];        /* "" when null or absent */
    char key_rights[192];        /* key_permissions' true flags, comma-separated; "" when absent */
    char symbol_source[16];      /* scope.symbol_source: "all" or "client" ("" when absent) */
    size_t nsymbols;             /* how many symbols scope.symbols lists */
    /* Returns and risk (docs/METRICS.md), when the payload has them
     * (has_returns: it carries "daily"); numbers in their JCS form or
     * "null", dates as signed. */
    int has_returns;
    char realized_pnl[40], unrealized_pnl[40], fees[40], funding[40];
    char ret[40], returns_from[40], sharpe_basis[16], sortino[40], volatility[40];
    char max_drawdown[40], max_drawdown_amount[40], max_drawdown_peak[16],
        max_drawdown_trough[16];
    char round_trips[24], win_rate[40], profit_factor[40], active_days[24];
    size_t ndaily; /* entries of the daily series */
} pa_client_summary;

PA_MUST_USE int pa_client_bundle_summary(const char *bundle_json, size_t len,
                                         pa_client_summary *out);

/* ---- display ------------------------------------------------------------------- */

/* s[0..len) made safe to print on a terminal, as a malloc'd string (NULL when
 * out of memory). Valid UTF-8 text is kept, except: a C0 control or DEL byte
 * becomes \xNN, a C1 control (U+0080..U+009F) or a bidirectional control
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) becomes \uNNNN, a
 * byte that starts no valid UTF-8 sequence becomes \xNN (hex in lower case),
 * and a backslash becomes \\, so an escape in the output is never the
 * sender's own text. Every string a server or a bundle supplied goes through
 * this before it is printed. */
char *pa_client_escape(const char *s, size_t len);

#endif
