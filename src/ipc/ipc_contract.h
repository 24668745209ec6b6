/* The host <-> enclave contract, in one place: the operations, the exact
 * shape of every request and answer (field names, types, required or
 * optional, caps), the limits and the error codes. Both sides use these
 * tables and nothing else: the host builds its requests and checks the
 * enclave's answers with them (ipc_host.h), the enclave checks every
 * request with them.
 * An unknown field is refused in both directions, so neither side can grow
 * a field the other silently ignores. docs/IPC.md's tables are rendered
 * from here (test_ipc_doc fails when they differ).
 *
 * Framing (length prefix, frame cap) is src/common/ipc.h; the envelope's
 * inner format is src/envelope (envelope_format.h): the contract carries
 * the envelope as an object and the enclave parses it with that module. */
#ifndef PA_IPC_CONTRACT_H
#define PA_IPC_CONTRACT_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

/* ---- operations ------------------------------------------------------------ */

typedef enum {
    PA_IPC_OP_INFO,
    PA_IPC_OP_ATTEST,
    PA_IPC_OP_OPEN,
    PA_IPC_OP_AGGREGATE,
    PA_IPC_OP_KEYGEN,
    PA_IPC_OP_AGGREGATE_START,  /* the aggregate run as a job (docs/IPC.md, "Jobs") */
    PA_IPC_OP_AGGREGATE_JOB,    /* a job's progress, then its outcome (once) */
    PA_IPC_OP_AGGREGATE_CANCEL, /* stops a job and forgets it */
    PA_IPC_OP_STATS,
    PA_IPC_OP_COUNT
} pa_ipc_op;

/* The op's wire name; "unknown" out of range. */
const char *pa_ipc_op_name(pa_ipc_op op);
PA_MUST_USE int pa_ipc_op_from_name(const char *name, pa_ipc_op *out);

/* ---- error codes ----------------------------------------------------------- */

typedef enum {
    PA_IPC_E_INVALID_REQUEST,          /* malformed frame or fields */
    PA_IPC_E_DECRYPTION_FAILED,        /* the envelope does not open, or not credentials */
    PA_IPC_E_ENCLAVE_KEY_LOST,         /* sealed to a key this instance does not hold */
    PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE, /* an account type the connector does not serve */
    PA_IPC_E_EXCHANGE_REJECTED_KEY,    /* the exchange refused the API key */
    PA_IPC_E_EXCHANGE_UNAVAILABLE,     /* unreachable, timed out, 5xx or 429 */
    PA_IPC_E_EXCHANGE_BAD_RESPONSE,    /* an answer the connector cannot use */
    PA_IPC_E_EXCHANGE_TOO_LARGE,       /* more history than one run processes */
    PA_IPC_E_EXCHANGE_BANNED,          /* the exchange banned the enclave's address for now */
    PA_IPC_E_EXCHANGE_REGION_BLOCKED,  /* the exchange refuses the enclave's region (451) */
    PA_IPC_E_KEY_NOT_READ_ONLY,        /* the key can trade, transfer or withdraw */
    PA_IPC_E_SEALED_KEY_INVALID,       /* an enclave-made key's sealed blob does not open */
    PA_IPC_E_JOB_NOT_FOUND,            /* no such job (handed over, expired, or a restart) */
    PA_IPC_E_TOO_MANY_JOBS,            /* the enclave holds PA_IPC_JOBS_MAX jobs already */
    PA_IPC_E_INTERNAL_ERROR,           /* anything else inside the enclave */
    PA_IPC_E_COUNT
} pa_ipc_error;

/* The code's wire name ("internal_error" out of range) and its meaning. */
const char *pa_ipc_error_name(pa_ipc_error code);
const char *pa_ipc_error_meaning(pa_ipc_error code);
PA_MUST_USE int pa_ipc_error_from_name(const char *name, pa_ipc_error *out);

/* ---- limits ------------------------------------------------------------------ */

#define PA_IPC_NONCE_MAX 64                         /* attest nonce, decoded bytes */
#define PA_IPC_CHALLENGE_MAX 128                    /* code points */
#define PA_IPC_WINDOW_MAX_MS (366LL * 86400 * 1000) /* aggregate from..to */
#define PA_IPC_FUTURE_SLACK_MS (60LL * 1000)        /* how far "to" may pass now */
#define PA_IPC_EXCHANGE_MAX 32                      /* code points (= envelope metadata) */
#define PA_IPC_LABEL_MAX 64                         /* code points (= envelope metadata) */
#define PA_IPC_ENVELOPE_MAX ((size_t)64 * 1024)     /* the envelope object, compact JSON bytes */
#define PA_IPC_QUOTE_MAX ((size_t)64 * 1024)        /* attestation document, decoded bytes */
#define PA_IPC_PEM_MAX ((size_t)16 * 1024)          /* development root certificate */
#define PA_IPC_PAYLOAD_MAX ((size_t)256 * 1024)     /* payload_jcs bytes */
#define PA_IPC_ENTRY_MAX ((size_t)16 * 1024)        /* one audit entry's bytes */
#define PA_IPC_ENTRIES_MAX 100000                   /* audit entries per result */
#define PA_IPC_MESSAGE_MAX 512                      /* an error answer's message, bytes */
#define PA_IPC_RETRY_AFTER_MAX 86400                 /* an error answer's retry_after, seconds */
#define PA_IPC_STATS_ROWS_MAX 64                     /* stats: venue x outcome rows */
#define PA_IPC_COUNT_MAX ((size_t)1 << 53)           /* stats: a count (exact in a double) */
#define PA_IPC_KEY_LEN 32                           /* X25519 / Ed25519 public keys */
#define PA_IPC_SIGNATURE_LEN 64                     /* Ed25519 */
#define PA_IPC_IMAGE_HASH_LEN 48                    /* PCR0, SHA-384 */
#define PA_IPC_HASH_LEN 32                          /* Merkle root, leaf hashes */
/* An enclave-made Ed25519 API key sealed to the enclave instance
 * (src/enclave/key_seal.h): version(1) || sealed_to(32) || nonce(12) ||
 * AES-256-GCM(seed(32)) || tag(16). */
#define PA_IPC_SEALED_KEY_LEN 93
#define PA_IPC_PUBKEY_PEM_MAX 256                   /* an Ed25519 SPKI PEM is 113 bytes */
/* Jobs (aggregate_start / aggregate_job / aggregate_cancel): */
#define PA_IPC_JOBS_MAX 16                          /* jobs an enclave holds, running or unread */
#define PA_IPC_JOB_MAX_WAIT_MS (15LL * 60 * 1000)   /* a job's waiting allowance (pacing,
                                                       Retry-After, backoff); a synchronous
                                                       aggregate has 20 s */
#define PA_IPC_JOB_KEEP_MS (10LL * 60 * 1000)       /* a finished job no one asked for is dropped */
#define PA_IPC_JOB_POLL_MAX_MS 10000                /* aggregate_job's wait_ms cap */
#define PA_IPC_PROGRESS_MAX 1000000                 /* symbols and pages counters */

/* ---- shapes -------------------------------------------------------------------- */

typedef enum {
    PA_IPC_T_B64,       /* canonical base64 of min..max bytes */
    PA_IPC_T_HEX,       /* lowercase hex of exactly max bytes */
    PA_IPC_T_TIME,      /* RFC 3339 date-time */
    PA_IPC_T_UUID,      /* canonical UUID v4 */
    PA_IPC_T_TEXT,      /* min..max code points, no control or format (Cf) characters */
    PA_IPC_T_STRING,    /* min..max bytes of UTF-8, no NUL */
    PA_IPC_T_ENUM,      /* one of values */
    PA_IPC_T_PEM,       /* a PEM certificate of at most max bytes */
    PA_IPC_T_JSON_TEXT, /* a string holding one JSON object of at most max bytes */
    PA_IPC_T_OBJECT,    /* an object of at most max compact bytes, checked by its owner */
    PA_IPC_T_SHAPE,     /* an object with exactly the nested shape */
    PA_IPC_T_ARRAY,     /* min..max items, each matching item */
    PA_IPC_T_INT,       /* a JSON integer in min..max */
} pa_ipc_type;

#define PA_IPC_REQUIRED 1u /* the key must be present */
#define PA_IPC_NULLABLE 2u /* null is allowed (and means "none") */

typedef struct pa_ipc_field pa_ipc_field;

typedef struct {
    const char *name; /* for messages and docs/IPC.md */
    const pa_ipc_field *fields;
    size_t n;
} pa_ipc_shape;

struct pa_ipc_field {
    const char *name; /* NULL for an array's item */
    pa_ipc_type type;
    unsigned flags;
    size_t min, max;
    const char *const *values; /* PA_IPC_T_ENUM: NULL-terminated */
    const pa_ipc_shape *shape; /* PA_IPC_T_SHAPE */
    const pa_ipc_field *item;  /* PA_IPC_T_ARRAY */
};

typedef struct {
    const char *name;
    const pa_ipc_shape *request; /* besides "op" */
    const pa_ipc_shape *answer;  /* besides "ok": true */
    const char *purpose;         /* one line for docs/IPC.md */
} pa_ipc_op_desc;

/* The description of op (NULL out of range), and the refusal's shape
 * {"error": CODE, "message": S} (besides "ok": false). */
const pa_ipc_op_desc *pa_ipc_op_desc_get(pa_ipc_op op);
const pa_ipc_shape *pa_ipc_error_shape(void);

/* A short sentence naming the field that broke a shape. */
#define PA_IPC_WHY_MAX 160

/* Checks that obj is an object with only the shape's keys (and extra_key
 * when not NULL: "op" for requests, "ok" for answers), every required key
 * present and every value of its type and within its caps. */
PA_MUST_USE int pa_ipc_shape_check(const pa_ipc_shape *shape, const json_t *obj,
                                   const char *extra_key, char why[PA_IPC_WHY_MAX]);

/* ---- enclave side ------------------------------------------------------------- */

/* Parses one request frame: strict JSON (size cap, no duplicate keys), an
 * object whose "op" names an operation, and that op's request shape exactly.
 * 0 with *op and *req (a new reference); -1 with why filled, to be answered
 * as invalid_request. */
PA_MUST_USE int pa_ipc_request_parse(const char *frame, size_t len, pa_ipc_op *op, json_t **req,
                                     char why[PA_IPC_WHY_MAX]);

/* The refusal frame {"ok":false,"error":CODE,"message":S} (malloc'd JSON;
 * NULL only when out of memory). A message over PA_IPC_MESSAGE_MAX bytes is
 * cut at a character boundary; one that is not UTF-8 is replaced. */
char *pa_ipc_error_answer(pa_ipc_error code, const char *message);
/* The same with "retry_after": the seconds after which the request may
 * succeed (1..PA_IPC_RETRY_AFTER_MAX; the host sends it as Retry-After). */
char *pa_ipc_error_answer_retry(pa_ipc_error code, const char *message, long retry_after_s);

/* The success frame: fields plus "ok": true, serialised; takes the
 * reference. fields == NULL (a failed json_pack) answers internal_error. */
char *pa_ipc_ok_answer(json_t *fields);

/* The host's side (request builders, answer check) is ipc_host.h. */

#endif
