/* The credential envelope's wire format: parse and check a submit body,
 * serialise an envelope back to one. Linked by every component; holds no
 * secrets (the ciphertext is what the host is allowed to see). */
#include "envelope_format.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json_strict.h"
#include "text.h"
#include "timeutil.h"
#include "uuid.h"

/* Longest standard-base64 text of PA_CIPHERTEXT_MAX bytes: refusing longer
 * strings before decoding keeps the work bounded by the limit, not the body. */
#define CIPHERTEXT_B64_MAX ((size_t)4 * ((PA_CIPHERTEXT_MAX + 2) / 3))

/* A JSON string of 1..max code points without control characters
 * (src/common/text.h: labels are shown to people). */
static int text_ok(const json_t *v, long max)
{
    if (!json_is_string(v))
        return 0;
    long n = pa_text_display_length(json_string_value(v), json_string_length(v));
    return n >= 1 && n <= max;
}

int pa_envelope_check_metadata(const json_t *metadata, const char **err)
{
    static const char *const keys[] = {"exchange", "label", "ttl", "not_after", "enclave_key_id",
                                       NULL};
    const char *unused;
    if (err == NULL)
        err = &unused;
    if (!json_is_object(metadata)) {
        *err = "metadata: must be a JSON object";
        return -1;
    }
    if (!pa_json_only_keys(metadata, keys)) {
        *err = "metadata: only exchange, label, ttl, not_after and enclave_key_id are allowed";
        return -1;
    }
    if (!text_ok(json_object_get(metadata, "exchange"), PA_EXCHANGE_MAX)) {
        *err = "metadata.exchange: required string of 1..32 characters";
        return -1;
    }
    if (!text_ok(json_object_get(metadata, "label"), PA_LABEL_MAX)) {
        *err = "metadata.label: required string of 1..64 characters, no control characters";
        return -1;
    }
    const json_t *ttl = json_object_get(metadata, "ttl");
    if (ttl != NULL && !json_is_integer(ttl)) {
        *err = "metadata.ttl: must be an integer";
        return -1;
    }
    const json_t *not_after = json_object_get(metadata, "not_after");
    if (not_after != NULL) {
        int64_t ms;
        if (!json_is_string(not_after) ||
            strlen(json_string_value(not_after)) != json_string_length(not_after) ||
            pa_time_parse(json_string_value(not_after), &ms) != 0) {
            *err = "metadata.not_after: must be an RFC 3339 date-time string";
            return -1;
        }
    }
    /* An enclave-made API key (POST /enclave/keygen): the plaintext then
     * carries no apiSecret, and the enclave signs with the sealed key. */
    const json_t *key_id = json_object_get(metadata, "enclave_key_id");
    if (key_id != NULL && !(json_is_string(key_id) && json_string_length(key_id) == 36 &&
                           pa_uuid_valid(json_string_value(key_id)))) {
        *err = "metadata.enclave_key_id: must be a key_id from POST /enclave/keygen (a UUID v4)";
        return -1;
    }
    return 0;
}

/* The string value of a base64 field; NULL when absent, not a string, or
 * holding a NUL (which strlen-based decoding would silently cut off). */
static const char *b64_field(const json_t *body, const char *key, size_t *len)
{
    const json_t *v = json_object_get(body, key);
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    *len = json_string_length(v);
    return strlen(s) == *len ? s : NULL;
}

static int decode_fixed(const json_t *body, const char *key, uint8_t *out, size_t want)
{
    size_t slen = 0;
    const char *s = b64_field(body, key, &slen);
    if (s == NULL || slen != 4 * ((want + 2) / 3))
        return -1;
    return pa_b64_decode_exact(s, out, want);
}

int pa_envelope_parse(const json_t *body, pa_envelope *out, const char **err)
{
    static const char *const keys[] = {"ephemeral_pub", "nonce", "ciphertext", "tag", "metadata",
                                       NULL};
    const char *unused;
    if (err == NULL)
        err = &unused;
    *err = "envelope: invalid arguments";
    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (body == NULL)
        return -1;

    if (!json_is_object(body)) {
        *err = "body: must be a JSON object";
        goto fail;
    }
    if (!pa_json_only_keys(body, keys)) {
        *err = "body: only ephemeral_pub, nonce, ciphertext, tag and metadata are allowed";
        goto fail;
    }
    if (decode_fixed(body, "ephemeral_pub", out->ephemeral_pub, PA_X25519_LEN) != 0) {
        *err = "ephemeral_pub: required, base64 (RFC 4648, padded) of 32 bytes";
        goto fail;
    }
    if (decode_fixed(body, "nonce", out->nonce, PA_NONCE_LEN) != 0) {
        *err = "nonce: required, base64 (RFC 4648, padded) of 12 bytes";
        goto fail;
    }
    if (decode_fixed(body, "tag", out->tag, PA_TAG_LEN) != 0) {
        *err = "tag: required, base64 (RFC 4648, padded) of 16 bytes";
        goto fail;
    }
    size_t slen = 0;
    const char *ct = b64_field(body, "ciphertext", &slen);
    if (ct == NULL || slen == 0 || slen > CIPHERTEXT_B64_MAX ||
        pa_b64_decode(ct, slen, &out->ciphertext, &out->ciphertext_len) != 0 ||
        out->ciphertext_len < 1 || out->ciphertext_len > PA_CIPHERTEXT_MAX) {
        *err = "ciphertext: required, base64 (RFC 4648, padded) of 1..8192 bytes";
        goto fail;
    }
    const json_t *metadata = json_object_get(body, "metadata");
    if (metadata == NULL) {
        *err = "metadata: required";
        goto fail;
    }
    if (pa_envelope_check_metadata(metadata, err) != 0)
        goto fail;
    /* A private copy: the envelope must not change if the caller later edits
     * or frees the body it came from. */
    out->metadata = json_deep_copy(metadata);
    if (out->metadata == NULL) {
        *err = "envelope: out of memory";
        goto fail;
    }
    return 0;
fail:
    pa_envelope_free(out);
    return -1;
}

static int set_b64(json_t *obj, const char *key, const uint8_t *data, size_t len)
{
    char *s = pa_b64_encode(data, len);
    if (s == NULL)
        return -1;
    int rc = json_object_set_new(obj, key, json_string(s));
    free(s);
    return rc == 0 ? 0 : -1;
}

json_t *pa_envelope_to_json(const pa_envelope *env)
{
    if (env == NULL || env->ciphertext == NULL || env->ciphertext_len == 0 ||
        !json_is_object(env->metadata))
        return NULL;
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    if (set_b64(obj, "ephemeral_pub", env->ephemeral_pub, PA_X25519_LEN) != 0 ||
        set_b64(obj, "nonce", env->nonce, PA_NONCE_LEN) != 0 ||
        set_b64(obj, "ciphertext", env->ciphertext, env->ciphertext_len) != 0 ||
        set_b64(obj, "tag", env->tag, PA_TAG_LEN) != 0 ||
        json_object_set_new(obj, "metadata", json_deep_copy(env->metadata)) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

void pa_envelope_free(pa_envelope *env)
{
    if (env == NULL)
        return;
    free(env->ciphertext);
    json_decref(env->metadata);
    memset(env, 0, sizeof *env);
}

int pa_symbol_ok(const char *s, size_t n)
{
    if (s == NULL || n < PA_SYMBOL_MIN_LEN || n > PA_SYMBOL_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}
