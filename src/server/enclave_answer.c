#include "enclave_answer.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json_strict.h"
#include "uuid.h"

#define PAYLOAD_MAX ((size_t)256 * 1024)
#define ENTRY_MAX ((size_t)16 * 1024)
#define ENTRIES_MAX 100000

int pa_is_b64(const char *s, size_t min_bytes, size_t max_bytes)
{
    if (s == NULL)
        return 0;
    size_t len = strlen(s);
    if (len > (max_bytes + 2) / 3 * 4)
        return 0;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int ok = pa_b64_decode(s, len, &raw, &raw_len) == 0 && raw_len >= min_bytes &&
             raw_len <= max_bytes;
    free(raw);
    return ok;
}

int pa_is_lower_hex(const char *s, size_t nbytes)
{
    if (s == NULL || strlen(s) != 2 * nbytes)
        return 0;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* A string member without embedded NUL (jansson allows \u0000). */
static const char *str_member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* A JSON object text, as the enclave's JCS output must be. */
static int is_object_text(const char *s, size_t cap, json_t **keep)
{
    json_t *v = pa_json_parse(s, strlen(s), cap);
    int ok = json_is_object(v);
    if (ok && keep != NULL)
        *keep = v;
    else
        json_decref(v);
    return ok;
}

int pa_answer_attest(const json_t *a, pa_attest_answer *out)
{
    PA_ENSURE(json_is_object(a));
    out->quote = str_member(a, "quote");
    out->enclave_pubkey = str_member(a, "enclave_pubkey");
    out->signing_pubkey = str_member(a, "signing_pubkey");
    out->image_hash = str_member(a, "image_hash");
    PA_ENSURE(pa_is_b64(out->quote, 1, PA_QUOTE_B64_MAX));
    PA_ENSURE(pa_is_b64(out->enclave_pubkey, 32, 32));
    PA_ENSURE(pa_is_b64(out->signing_pubkey, 32, 32));
    PA_ENSURE(pa_is_lower_hex(out->image_hash, 48));
    return 0;
}

int pa_answer_open(const json_t *a, pa_open_answer *out)
{
    PA_ENSURE(json_is_object(a));
    out->enclave_pubkey = str_member(a, "enclave_pubkey");
    PA_ENSURE(pa_is_b64(out->enclave_pubkey, 32, 32));
    return 0;
}

int pa_answer_info(const json_t *a, pa_info_answer *out)
{
    PA_ENSURE(json_is_object(a));
    out->environment = str_member(a, "environment");
    PA_ENSURE(out->environment != NULL && (strcmp(out->environment, "development") == 0 ||
                                           strcmp(out->environment, "production") == 0));
    const json_t *pem = json_object_get(a, "dev_root_pem");
    if (pem == NULL || json_is_null(pem)) {
        out->dev_root_pem = NULL;
        return 0;
    }
    out->dev_root_pem = str_member(a, "dev_root_pem");
    PA_ENSURE(out->dev_root_pem != NULL &&
              strncmp(out->dev_root_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    return 0;
}

void pa_aggregate_answer_free(pa_aggregate_answer *a)
{
    free(a->entries);
    free(a->leaf_hashes);
    free(a->attestation_json);
    memset(a, 0, sizeof *a);
}

int pa_answer_aggregate(const json_t *a, pa_aggregate_answer *out)
{
    json_t *payload = NULL;
    json_t *att_obj = NULL;
    memset(out, 0, sizeof *out);
    PA_ENSURE_GOTO(json_is_object(a), fail);

    out->result_id = str_member(a, "result_id");
    out->payload_jcs = str_member(a, "payload_jcs");
    out->signature = str_member(a, "signature");
    out->merkle_root = str_member(a, "merkle_root");
    PA_ENSURE_GOTO(pa_uuid_valid(out->result_id), fail);
    PA_ENSURE_GOTO(pa_is_b64(out->signature, 64, 64), fail);
    PA_ENSURE_GOTO(pa_is_lower_hex(out->merkle_root, 32), fail);
    PA_ENSURE_GOTO(out->payload_jcs != NULL && is_object_text(out->payload_jcs, PAYLOAD_MAX, &payload),
                   fail);
    /* the numbers served around the payload must be the ones signed in it */
    const char *p_id = pa_json_str(payload, "result_id");
    const char *p_root = pa_json_str(payload, "merkle_root");
    PA_ENSURE_GOTO(p_id != NULL && strcmp(p_id, out->result_id) == 0, fail);
    PA_ENSURE_GOTO(p_root != NULL && strcmp(p_root, out->merkle_root) == 0, fail);

    const json_t *entries = json_object_get(a, "entries");
    const json_t *leaves = json_object_get(a, "leaf_hashes");
    PA_ENSURE_GOTO(json_is_array(entries) && json_is_array(leaves), fail);
    size_t n = json_array_size(entries);
    PA_ENSURE_GOTO(n == json_array_size(leaves) && n <= ENTRIES_MAX, fail);
    out->n = n;
    out->entries = calloc(n + 1, sizeof *out->entries);
    out->leaf_hashes = calloc(n + 1, sizeof *out->leaf_hashes);
    PA_ENSURE_GOTO(out->entries != NULL && out->leaf_hashes != NULL, fail);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(entries, i);
        const json_t *h = json_array_get(leaves, i);
        PA_ENSURE_GOTO(json_is_string(e) && json_is_string(h), fail);
        const char *es = json_string_value(e);
        PA_ENSURE_GOTO(strlen(es) == json_string_length(e), fail);
        PA_ENSURE_GOTO(is_object_text(es, ENTRY_MAX, NULL), fail);
        PA_ENSURE_GOTO(pa_is_lower_hex(json_string_value(h), 32), fail);
        out->entries[i] = es;
        out->leaf_hashes[i] = json_string_value(h);
    }

    PA_GUARD_GOTO(pa_answer_attest(json_object_get(a, "attestation"), &out->attestation), fail);
    const char *p_image = pa_json_str(payload, "image_hash");
    PA_ENSURE_GOTO(p_image != NULL && strcmp(p_image, out->attestation.image_hash) == 0, fail);
    att_obj = json_pack("{s:s, s:s, s:s, s:s}", "quote", out->attestation.quote, "enclave_pubkey",
                        out->attestation.enclave_pubkey, "signing_pubkey",
                        out->attestation.signing_pubkey, "image_hash", out->attestation.image_hash);
    PA_ENSURE_GOTO(att_obj != NULL, fail);
    out->attestation_json = json_dumps(att_obj, JSON_COMPACT);
    PA_ENSURE_GOTO(out->attestation_json != NULL, fail);
    json_decref(att_obj);
    json_decref(payload);
    return 0;

fail:
    json_decref(att_obj);
    json_decref(payload);
    pa_aggregate_answer_free(out);
    return -1;
}
