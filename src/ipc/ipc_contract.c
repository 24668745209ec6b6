/* The contract's tables and the one shape checker both sides run
 * (ipc_contract.h). Adding a field, an op or a code means editing a table
 * here; the builders, validators and docs/IPC.md follow from it. */
#include "ipc_contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json_strict.h"
#include "text.h"
#include "timeutil.h"
#include "uuid.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const error_names[PA_IPC_E_COUNT + 1] = {
    [PA_IPC_E_INVALID_REQUEST] = "invalid_request",
    [PA_IPC_E_DECRYPTION_FAILED] = "decryption_failed",
    [PA_IPC_E_ENCLAVE_KEY_LOST] = "enclave_key_lost",
    [PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE] = "unsupported_account_type",
    [PA_IPC_E_EXCHANGE_REJECTED_KEY] = "exchange_rejected_key",
    [PA_IPC_E_EXCHANGE_UNAVAILABLE] = "exchange_unavailable",
    [PA_IPC_E_EXCHANGE_BAD_RESPONSE] = "exchange_bad_response",
    [PA_IPC_E_EXCHANGE_TOO_LARGE] = "exchange_too_large",
    [PA_IPC_E_EXCHANGE_BANNED] = "exchange_banned",
    [PA_IPC_E_EXCHANGE_REGION_BLOCKED] = "exchange_region_blocked",
    [PA_IPC_E_KEY_NOT_READ_ONLY] = "key_not_read_only",
    [PA_IPC_E_SEALED_KEY_INVALID] = "sealed_key_invalid",
    [PA_IPC_E_JOB_NOT_FOUND] = "job_not_found",
    [PA_IPC_E_TOO_MANY_JOBS] = "too_many_jobs",
    [PA_IPC_E_INTERNAL_ERROR] = "internal_error",
    [PA_IPC_E_COUNT] = NULL,
};

static const char *const error_meanings[PA_IPC_E_COUNT] = {
    [PA_IPC_E_INVALID_REQUEST] = "malformed frame or fields (the contract refused it)",
    [PA_IPC_E_DECRYPTION_FAILED] =
        "the envelope does not open, or its plaintext is not valid credentials",
    [PA_IPC_E_ENCLAVE_KEY_LOST] = "sealed to a key this enclave instance does not have",
    [PA_IPC_E_UNSUPPORTED_ACCOUNT_TYPE] =
        "the credentials ask for an account type the connector does not serve",
    [PA_IPC_E_EXCHANGE_REJECTED_KEY] = "the exchange refused the API key",
    [PA_IPC_E_EXCHANGE_UNAVAILABLE] =
        "the exchange could not be reached, timed out or answered 5xx/429 after the retries",
    [PA_IPC_E_EXCHANGE_BAD_RESPONSE] = "the exchange answered something the connector cannot use",
    [PA_IPC_E_EXCHANGE_TOO_LARGE] = "more history than the enclave processes in one run",
    [PA_IPC_E_EXCHANGE_BANNED] = "the exchange banned the enclave's address (HTTP 418) for now",
    [PA_IPC_E_EXCHANGE_REGION_BLOCKED] = "the exchange refuses the enclave's region (HTTP 451)",
    [PA_IPC_E_KEY_NOT_READ_ONLY] =
        "the exchange reports the API key can trade, transfer or withdraw (read-only keys only)",
    [PA_IPC_E_SEALED_KEY_INVALID] =
        "the sealed enclave-made key does not open, or is not the key the envelope names",
    [PA_IPC_E_JOB_NOT_FOUND] = "no such job (handed over, dropped, cancelled, or a restart)",
    [PA_IPC_E_TOO_MANY_JOBS] = "the enclave already holds PA_IPC_JOBS_MAX jobs",
    [PA_IPC_E_INTERNAL_ERROR] = "anything else inside the enclave",
};

const char *pa_ipc_error_name(pa_ipc_error code)
{
    return (unsigned)code < PA_IPC_E_COUNT ? error_names[code] : "internal_error";
}

const char *pa_ipc_error_meaning(pa_ipc_error code)
{
    return (unsigned)code < PA_IPC_E_COUNT ? error_meanings[code] : "";
}

int pa_ipc_error_from_name(const char *name, pa_ipc_error *out)
{
    PA_ENSURE(name != NULL);
    for (int i = 0; i < PA_IPC_E_COUNT; i++) {
        if (strcmp(name, error_names[i]) == 0) {
            *out = (pa_ipc_error)i;
            return 0;
        }
    }
    return -1;
}

/* ---- shapes ------------------------------------------------------------------- */

#define B64(n, lo, hi, fl)                                                         \
    {                                                                              \
        .name = (n), .type = PA_IPC_T_B64, .flags = (fl), .min = (lo), .max = (hi) \
    }
#define KEY(n) B64(n, PA_IPC_KEY_LEN, PA_IPC_KEY_LEN, PA_IPC_REQUIRED)
#define HEX(n, len)                                                               \
    {                                                                             \
        .name = (n), .type = PA_IPC_T_HEX, .flags = PA_IPC_REQUIRED, .max = (len) \
    }

static const char *const environments[] = {"development", "production", NULL};

/* The attestation object: the attest answer, the aggregate answer's
 * "attestation" and GET /attestation/quote all have this shape. */
static const pa_ipc_field attestation_fields[] = {
    B64("quote", 1, PA_IPC_QUOTE_MAX, PA_IPC_REQUIRED),
    KEY("enclave_pubkey"),
    KEY("signing_pubkey"),
    HEX("image_hash", PA_IPC_IMAGE_HASH_LEN),
};
static const pa_ipc_shape attestation = {"ATTESTATION", attestation_fields,
                                         PA_ARRAY_LEN(attestation_fields)};

static const pa_ipc_shape empty = {"{}", NULL, 0};

/* info */
static const pa_ipc_field info_answer_fields[] = {
    KEY("enclave_pubkey"),
    KEY("signing_pubkey"),
    HEX("image_hash", PA_IPC_IMAGE_HASH_LEN),
    {.name = "environment",
     .type = PA_IPC_T_ENUM,
     .flags = PA_IPC_REQUIRED,
     .values = environments},
    {.name = "dev_root_pem",
     .type = PA_IPC_T_PEM,
     .flags = PA_IPC_REQUIRED | PA_IPC_NULLABLE,
     .max = PA_IPC_PEM_MAX},
};
static const pa_ipc_shape info_answer = {"info answer", info_answer_fields,
                                         PA_ARRAY_LEN(info_answer_fields)};

/* attest */
static const pa_ipc_field attest_request_fields[] = {
    B64("nonce", 1, PA_IPC_NONCE_MAX, PA_IPC_NULLABLE),
};
static const pa_ipc_shape attest_request = {"attest request", attest_request_fields,
                                            PA_ARRAY_LEN(attest_request_fields)};

/* open */
/* a macro, not a shared const object: C wants constant initializers */
#define ENVELOPE_FIELD                                                         \
    {                                                                          \
        .name = "envelope", .type = PA_IPC_T_OBJECT, .flags = PA_IPC_REQUIRED, \
        .max = PA_IPC_ENVELOPE_MAX                                             \
    }
/* An enclave-made API key (metadata.enclave_key_id): its sealed private
 * key, as the keygen answer gave it. */
#define SEALED_KEY_FIELD \
    B64("sealed_key", PA_IPC_SEALED_KEY_LEN, PA_IPC_SEALED_KEY_LEN, PA_IPC_NULLABLE)
static const pa_ipc_field open_request_fields[] = {ENVELOPE_FIELD, SEALED_KEY_FIELD};
static const pa_ipc_shape open_request = {"open request", open_request_fields,
                                          PA_ARRAY_LEN(open_request_fields)};
static const pa_ipc_field open_answer_fields[] = {
    {.name = "exchange",
     .type = PA_IPC_T_TEXT,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_EXCHANGE_MAX},
    {.name = "label",
     .type = PA_IPC_T_TEXT,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_LABEL_MAX},
    {.name = "not_after", .type = PA_IPC_T_TIME, .flags = PA_IPC_REQUIRED | PA_IPC_NULLABLE},
    KEY("enclave_pubkey"),
};
static const pa_ipc_shape open_answer = {"open answer", open_answer_fields,
                                         PA_ARRAY_LEN(open_answer_fields)};

/* aggregate */
static const pa_ipc_field aggregate_request_fields[] = {
    ENVELOPE_FIELD,
    KEY("enclave_pubkey"),
    {.name = "from", .type = PA_IPC_T_TIME, .flags = PA_IPC_REQUIRED},
    {.name = "to", .type = PA_IPC_T_TIME, .flags = PA_IPC_REQUIRED},
    {.name = "challenge",
     .type = PA_IPC_T_TEXT,
     .flags = PA_IPC_NULLABLE,
     .min = 0,
     .max = PA_IPC_CHALLENGE_MAX},
    SEALED_KEY_FIELD,
};
static const pa_ipc_shape aggregate_request = {"aggregate request", aggregate_request_fields,
                                               PA_ARRAY_LEN(aggregate_request_fields)};
static const pa_ipc_field entry_item = {.type = PA_IPC_T_JSON_TEXT, .max = PA_IPC_ENTRY_MAX};
static const pa_ipc_field leaf_item = {.type = PA_IPC_T_HEX, .max = PA_IPC_HASH_LEN};
static const pa_ipc_field aggregate_answer_fields[] = {
    {.name = "result_id", .type = PA_IPC_T_UUID, .flags = PA_IPC_REQUIRED},
    {.name = "payload_jcs",
     .type = PA_IPC_T_JSON_TEXT,
     .flags = PA_IPC_REQUIRED,
     .max = PA_IPC_PAYLOAD_MAX},
    B64("signature", PA_IPC_SIGNATURE_LEN, PA_IPC_SIGNATURE_LEN, PA_IPC_REQUIRED),
    HEX("merkle_root", PA_IPC_HASH_LEN),
    {.name = "entries",
     .type = PA_IPC_T_ARRAY,
     .flags = PA_IPC_REQUIRED,
     .min = 0,
     .max = PA_IPC_ENTRIES_MAX,
     .item = &entry_item},
    {.name = "leaf_hashes",
     .type = PA_IPC_T_ARRAY,
     .flags = PA_IPC_REQUIRED,
     .min = 0,
     .max = PA_IPC_ENTRIES_MAX,
     .item = &leaf_item},
    {.name = "attestation",
     .type = PA_IPC_T_SHAPE,
     .flags = PA_IPC_REQUIRED,
     .shape = &attestation},
};
static const pa_ipc_shape aggregate_answer = {"aggregate answer", aggregate_answer_fields,
                                              PA_ARRAY_LEN(aggregate_answer_fields)};

/* keygen */
static const pa_ipc_field keygen_request_fields[] = {
    {.name = "exchange",
     .type = PA_IPC_T_TEXT,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_EXCHANGE_MAX},
    B64("nonce", 1, PA_IPC_NONCE_MAX, PA_IPC_NULLABLE),
};
static const pa_ipc_shape keygen_request = {"keygen request", keygen_request_fields,
                                            PA_ARRAY_LEN(keygen_request_fields)};
static const pa_ipc_field keygen_answer_fields[] = {
    {.name = "key_id", .type = PA_IPC_T_UUID, .flags = PA_IPC_REQUIRED},
    {.name = "exchange",
     .type = PA_IPC_T_TEXT,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_EXCHANGE_MAX},
    KEY("public_key"),
    {.name = "public_key_pem",
     .type = PA_IPC_T_STRING,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_PUBKEY_PEM_MAX},
    B64("sealed_key", PA_IPC_SEALED_KEY_LEN, PA_IPC_SEALED_KEY_LEN, PA_IPC_REQUIRED),
    {.name = "attestation",
     .type = PA_IPC_T_SHAPE,
     .flags = PA_IPC_REQUIRED,
     .shape = &attestation},
};
static const pa_ipc_shape keygen_answer = {"keygen answer", keygen_answer_fields,
                                           PA_ARRAY_LEN(keygen_answer_fields)};
/* stats: the enclave's counts since it started (the host's /metrics) */
static const char *const venues[] = {"binance_spot", "binance_usdm", NULL};
static const char *const call_outcomes[] = {"ok",       "http_4xx", "http_429",     "http_418",
                                            "http_5xx", "network",  "bad_response", NULL};
static const pa_ipc_field exchange_call_fields[] = {
    {.name = "venue", .type = PA_IPC_T_ENUM, .flags = PA_IPC_REQUIRED, .values = venues},
    {.name = "outcome", .type = PA_IPC_T_ENUM, .flags = PA_IPC_REQUIRED, .values = call_outcomes},
    {.name = "count",
     .type = PA_IPC_T_INT,
     .flags = PA_IPC_REQUIRED,
     .min = 0,
     .max = PA_IPC_COUNT_MAX},
};
static const pa_ipc_shape exchange_call = {"EXCHANGE_CALLS", exchange_call_fields,
                                           PA_ARRAY_LEN(exchange_call_fields)};
static const pa_ipc_field exchange_call_item = {.type = PA_IPC_T_SHAPE, .shape = &exchange_call};
static const pa_ipc_field stats_answer_fields[] = {
    {.name = "exchange_calls",
     .type = PA_IPC_T_ARRAY,
     .flags = PA_IPC_REQUIRED,
     .min = 0,
     .max = PA_IPC_STATS_ROWS_MAX,
     .item = &exchange_call_item},
};
static const pa_ipc_shape stats_answer = {"stats answer", stats_answer_fields,
                                          PA_ARRAY_LEN(stats_answer_fields)};

/* a refusal, for every op */
static const pa_ipc_field error_fields[] = {
    {.name = "error", .type = PA_IPC_T_ENUM, .flags = PA_IPC_REQUIRED, .values = error_names},
    {.name = "message",
     .type = PA_IPC_T_STRING,
     .flags = PA_IPC_REQUIRED,
     .min = 1,
     .max = PA_IPC_MESSAGE_MAX},
    /* exchange_banned: when the ban ends (the host's Retry-After) */
    {.name = "retry_after", .type = PA_IPC_T_INT, .min = 1, .max = PA_IPC_RETRY_AFTER_MAX},
};
static const pa_ipc_shape error_shape = {"refusal", error_fields, PA_ARRAY_LEN(error_fields)};

/* jobs: aggregate_start takes the aggregate request */
#define JOB_ID_FIELD                                                                 \
    {                                                                                \
        .name = "job_id", .type = PA_IPC_T_UUID, .flags = PA_IPC_REQUIRED            \
    }
static const pa_ipc_field job_id_fields[] = {JOB_ID_FIELD};
static const pa_ipc_shape job_start_answer = {"aggregate_start answer", job_id_fields,
                                              PA_ARRAY_LEN(job_id_fields)};
static const pa_ipc_shape job_cancel_request = {"aggregate_cancel request", job_id_fields,
                                                PA_ARRAY_LEN(job_id_fields)};
static const pa_ipc_field job_request_fields[] = {
    JOB_ID_FIELD,
    /* how long to wait for the job to end before answering "running" */
    {.name = "wait_ms", .type = PA_IPC_T_INT, .max = PA_IPC_JOB_POLL_MAX_MS},
};
static const pa_ipc_shape job_request = {"aggregate_job request", job_request_fields,
                                         PA_ARRAY_LEN(job_request_fields)};
#define COUNTER(n)                                                                          \
    {                                                                                       \
        .name = (n), .type = PA_IPC_T_INT, .flags = PA_IPC_REQUIRED, .max = PA_IPC_PROGRESS_MAX \
    }
static const pa_ipc_field progress_fields[] = {
    COUNTER("symbols_done"),  /* symbols whose whole history is fetched */
    COUNTER("symbols_total"), /* symbols the run fetches (0 until they are known) */
    COUNTER("pages"),         /* trade-history pages fetched */
};
static const pa_ipc_shape progress = {"PROGRESS", progress_fields, PA_ARRAY_LEN(progress_fields)};
static const char *const job_states[] = {"running", "succeeded", "failed", NULL};
static const pa_ipc_field job_answer_fields[] = {
    {.name = "status", .type = PA_IPC_T_ENUM, .flags = PA_IPC_REQUIRED, .values = job_states},
    {.name = "progress", .type = PA_IPC_T_SHAPE, .flags = PA_IPC_REQUIRED, .shape = &progress},
    /* succeeded: exactly the aggregate answer (without "ok") */
    {.name = "result", .type = PA_IPC_T_SHAPE, .shape = &aggregate_answer},
    /* failed: exactly the refusal the aggregate op would have answered */
    {.name = "error", .type = PA_IPC_T_SHAPE, .shape = &error_shape},
};
static const pa_ipc_shape job_answer = {"aggregate_job answer", job_answer_fields,
                                        PA_ARRAY_LEN(job_answer_fields)};

static const pa_ipc_op_desc ops[PA_IPC_OP_COUNT] = {
    [PA_IPC_OP_INFO] = {"info", &empty, &info_answer,
                        "the enclave's public keys, image and environment (health, root)"},
    [PA_IPC_OP_ATTEST] = {"attest", &attest_request, &attestation,
                          "a fresh attestation document binding both public keys and the nonce"},
    [PA_IPC_OP_OPEN] = {"open", &open_request, &open_answer,
                        "proves the envelope opens to valid credentials; returns none of them"},
    [PA_IPC_OP_AGGREGATE] = {"aggregate", &aggregate_request, &aggregate_answer,
                             "fetches the history, computes, signs and attests the result"},
    [PA_IPC_OP_KEYGEN] = {"keygen", &keygen_request, &keygen_answer,
                          "a fresh Ed25519 API key: public key and quote; the private key only "
                          "sealed to this instance"},
    [PA_IPC_OP_AGGREGATE_START] = {"aggregate_start", &aggregate_request, &job_start_answer,
                                   "starts the aggregate run as a job (minutes of waiting "
                                   "allowed) and answers its id at once"},
    [PA_IPC_OP_AGGREGATE_JOB] = {"aggregate_job", &job_request, &job_answer,
                                 "a job's progress; its outcome once, after which it is forgotten"},
    [PA_IPC_OP_AGGREGATE_CANCEL] = {"aggregate_cancel", &job_cancel_request, &empty,
                                    "stops a job at its next page and forgets it"},
    [PA_IPC_OP_STATS] =
        {"stats", &empty, &stats_answer,
         "exchange calls by venue and outcome since the enclave started (counts only)"},
};

const pa_ipc_op_desc *pa_ipc_op_desc_get(pa_ipc_op op)
{
    return (unsigned)op < PA_IPC_OP_COUNT ? &ops[op] : NULL;
}

const pa_ipc_shape *pa_ipc_error_shape(void)
{
    return &error_shape;
}

const char *pa_ipc_op_name(pa_ipc_op op)
{
    return (unsigned)op < PA_IPC_OP_COUNT ? ops[op].name : "unknown";
}

int pa_ipc_op_from_name(const char *name, pa_ipc_op *out)
{
    PA_ENSURE(name != NULL);
    for (int i = 0; i < PA_IPC_OP_COUNT; i++) {
        if (strcmp(name, ops[i].name) == 0) {
            *out = (pa_ipc_op)i;
            return 0;
        }
    }
    return -1;
}

/* ---- the checker ------------------------------------------------------------------ */

/* A string value without an embedded NUL (jansson allows \u0000). */
static const char *plain_string(const json_t *v, size_t *len)
{
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return strlen(json_string_value(v)) == *len ? json_string_value(v) : NULL;
}

static int b64_ok(const char *s, size_t len, size_t min, size_t max)
{
    /* bounded by the cap before decoding anything */
    if (len > 4 * ((max + 2) / 3))
        return 0;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int ok = pa_b64_decode(s, len, &raw, &raw_len) == 0 && raw_len >= min && raw_len <= max;
    free(raw);
    return ok;
}

static int lower_hex_ok(const char *s, size_t len, size_t nbytes)
{
    if (len != 2 * nbytes)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int json_object_text_ok(const char *s, size_t len, size_t max)
{
    json_t *v = pa_json_parse(s, len, max);
    int ok = json_is_object(v);
    json_decref(v);
    return ok;
}

static int enum_ok(const char *s, const char *const *values)
{
    for (const char *const *v = values; *v != NULL; v++)
        if (strcmp(s, *v) == 0)
            return 1;
    return 0;
}

#define PEM_HEAD "-----BEGIN CERTIFICATE-----"

static int check_value(const pa_ipc_field *f, const json_t *v, const char *name,
                       char why[PA_IPC_WHY_MAX]);

static int check_string(const pa_ipc_field *f, const json_t *v)
{
    size_t len = 0;
    const char *s = plain_string(v, &len);
    if (s == NULL)
        return 0;
    switch (f->type) {
    case PA_IPC_T_B64:
        return b64_ok(s, len, f->min, f->max);
    case PA_IPC_T_HEX:
        return lower_hex_ok(s, len, f->max);
    case PA_IPC_T_TIME: {
        int64_t ms;
        return pa_time_parse(s, &ms) == 0;
    }
    case PA_IPC_T_UUID:
        return pa_uuid_valid(s);
    case PA_IPC_T_TEXT: {
        long n = pa_text_display_length(s, len);
        return n >= 0 && (size_t)n >= f->min && (size_t)n <= f->max;
    }
    case PA_IPC_T_STRING:
        return len >= f->min && len <= f->max;
    case PA_IPC_T_ENUM:
        return enum_ok(s, f->values);
    case PA_IPC_T_PEM:
        return len <= f->max && strncmp(s, PEM_HEAD, strlen(PEM_HEAD)) == 0;
    case PA_IPC_T_JSON_TEXT:
        return json_object_text_ok(s, len, f->max);
    default:
        return 0;
    }
}

static int check_value(const pa_ipc_field *f, const json_t *v, const char *name,
                       char why[PA_IPC_WHY_MAX])
{
    int ok;
    switch (f->type) {
    case PA_IPC_T_OBJECT:
        /* json_dumpb with no buffer only measures */
        ok = json_is_object(v) && json_dumpb(v, NULL, 0, JSON_COMPACT) <= f->max;
        break;
    case PA_IPC_T_SHAPE:
        return pa_ipc_shape_check(f->shape, v, NULL, why);
    case PA_IPC_T_INT:
        ok = json_is_integer(v) && json_integer_value(v) >= 0 &&
             (size_t)json_integer_value(v) >= f->min && (size_t)json_integer_value(v) <= f->max;
        break;
    case PA_IPC_T_ARRAY:
        ok = json_is_array(v) && json_array_size(v) >= f->min && json_array_size(v) <= f->max;
        for (size_t i = 0; ok && i < json_array_size(v); i++)
            if (check_value(f->item, json_array_get(v, i), name, why) != 0)
                return -1;
        break;
    default:
        ok = check_string(f, v);
        break;
    }
    if (!ok) {
        snprintf(why, PA_IPC_WHY_MAX, "field \"%s\" has the wrong type or is out of bounds", name);
        return -1;
    }
    return 0;
}

int pa_ipc_shape_check(const pa_ipc_shape *shape, const json_t *obj, const char *extra_key,
                       char why[PA_IPC_WHY_MAX])
{
    if (!json_is_object(obj)) {
        snprintf(why, PA_IPC_WHY_MAX, "%s: not a JSON object", shape->name);
        return -1;
    }
    /* every key must be the shape's (or the extra one) */
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        (void)value;
        int known = extra_key != NULL && strcmp(key, extra_key) == 0;
        for (size_t i = 0; !known && i < shape->n; i++)
            known = strcmp(key, shape->fields[i].name) == 0;
        if (!known) {
            /* the key itself is the sender's text: not echoed */
            snprintf(why, PA_IPC_WHY_MAX, "%s: unknown field", shape->name);
            return -1;
        }
    }
    for (size_t i = 0; i < shape->n; i++) {
        const pa_ipc_field *f = &shape->fields[i];
        const json_t *v = json_object_get(obj, f->name);
        if (v == NULL) {
            if (f->flags & PA_IPC_REQUIRED) {
                snprintf(why, PA_IPC_WHY_MAX, "%s: field \"%s\" is required", shape->name, f->name);
                return -1;
            }
            continue;
        }
        if (json_is_null(v) && (f->flags & PA_IPC_NULLABLE))
            continue;
        PA_GUARD(check_value(f, v, f->name, why));
    }
    return 0;
}
