/* The attestation payload map: encoding it (enclave side) and strictly
 * parsing it (client side). The key set and limits follow the AWS Nitro
 * Enclaves attestation document specification; the producer and the parser
 * live together so they cannot drift apart. */
#include <string.h>

#include "attest_internal.h"

enum {
    K_MODULE_ID,
    K_DIGEST,
    K_TIMESTAMP,
    K_PCRS,
    K_CERTIFICATE,
    K_CABUNDLE,
    K_PUBLIC_KEY,
    K_USER_DATA,
    K_NONCE,
    K_COUNT
};

/* In the order Nitro writes them. */
static const char *const payload_keys[K_COUNT] = {
    "module_id", "digest", "timestamp", "pcrs",  "certificate",
    "cabundle",  "public_key", "user_data", "nonce",
};

#define DIGEST_NAME "SHA384"

static cbor_item_t *text(const char *s)
{
    return cbor_build_stringn(s, strlen(s));
}

static cbor_item_t *bytes_or_null(pa_bytes b)
{
    return b.data == NULL ? cbor_new_null() : pa_cbor_build_bytes(b.data, b.len);
}

/* digest is SHA384, so every PCR is a SHA-384 value: 48 bytes. */
static int pcr_len_ok(size_t len)
{
    return len == PA_PCR_LEN;
}

int pa_attest_payload_encode(const pa_attest_payload *in, pa_buf *out)
{
    int rc = -1;
    cbor_item_t *map = NULL, *pcrs = NULL, *bundle = NULL;

    if (in == NULL || out == NULL || in->module_id.data == NULL || in->module_id.len == 0 ||
        in->module_id.len > PA_ATTEST_MODULE_ID_MAX || in->certificate.data == NULL ||
        in->certificate.len > PA_ATTEST_CERT_MAX || in->cabundle_len == 0 ||
        in->cabundle_len > PA_ATTEST_CABUNDLE_MAX || in->public_key.len > PA_ATTEST_FIELD_MAX ||
        in->user_data.len > PA_ATTEST_FIELD_MAX || in->nonce.len > PA_ATTEST_FIELD_MAX)
        return -1;

    size_t npcrs = 0;
    for (size_t i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (in->pcrs[i].data == NULL)
            continue;
        if (!pcr_len_ok(in->pcrs[i].len))
            return -1;
        npcrs++;
    }
    pcrs = cbor_new_definite_map(npcrs);
    bundle = cbor_new_definite_array(in->cabundle_len);
    map = cbor_new_definite_map(K_COUNT);
    PA_ENSURE_GOTO(pcrs != NULL && bundle != NULL && map != NULL, cleanup);
    for (size_t i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (in->pcrs[i].data != NULL)
            PA_GUARD_GOTO(pa_cbor_map_put(pcrs, pa_cbor_build_uint(i),
                                          pa_cbor_build_bytes(in->pcrs[i].data, in->pcrs[i].len)),
                          cleanup);
    }
    for (size_t i = 0; i < in->cabundle_len; i++) {
        PA_ENSURE_GOTO(in->cabundle[i].data != NULL && in->cabundle[i].len <= PA_ATTEST_CERT_MAX,
                       cleanup);
        PA_GUARD_GOTO(pa_cbor_array_put(bundle, pa_cbor_build_bytes(in->cabundle[i].data,
                                                                    in->cabundle[i].len)),
                      cleanup);
    }

    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_MODULE_ID]),
                                  cbor_build_stringn((const char *)in->module_id.data,
                                                     in->module_id.len)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_DIGEST]), text(DIGEST_NAME)), cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_TIMESTAMP]),
                                  pa_cbor_build_uint(in->timestamp_ms)),
                  cleanup);
    /* pa_cbor_map_put consumes a reference: hand it an extra one, ours is
     * dropped in cleanup */
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_PCRS]), cbor_incref(pcrs)), cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_CERTIFICATE]),
                                  pa_cbor_build_bytes(in->certificate.data, in->certificate.len)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_CABUNDLE]), cbor_incref(bundle)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_PUBLIC_KEY]),
                                  bytes_or_null(in->public_key)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_USER_DATA]),
                                  bytes_or_null(in->user_data)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_map_put(map, text(payload_keys[K_NONCE]), bytes_or_null(in->nonce)),
                  cleanup);
    PA_GUARD_GOTO(pa_cbor_serialize(map, out), cleanup);
    rc = 0;
cleanup:
    if (pcrs != NULL)
        cbor_decref(&pcrs);
    if (bundle != NULL)
        cbor_decref(&bundle);
    if (map != NULL)
        cbor_decref(&map);
    return rc;
}

/* ---- parsing ---------------------------------------------------------------- */

static int get_bytes(const cbor_item_t *item, size_t min, size_t max, pa_bytes *out)
{
    if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
        return -1;
    size_t n = cbor_bytestring_length(item);
    const uint8_t *d = cbor_bytestring_handle(item);
    if (n < min || n > max)
        return -1;
    if (d == NULL) {
        if (n != 0)
            return -1;
        d = (const uint8_t *)""; /* present but empty: keep data non-NULL */
    }
    out->data = d;
    out->len = n;
    return 0;
}

static int get_optional_bytes(const cbor_item_t *item, pa_bytes *out)
{
    if (cbor_is_null(item)) {
        out->data = NULL;
        out->len = 0;
        return 0;
    }
    return get_bytes(item, 0, PA_ATTEST_FIELD_MAX, out);
}

static int key_index(const cbor_item_t *key)
{
    if (!cbor_isa_string(key) || !cbor_string_is_definite(key))
        return -1;
    size_t n = cbor_string_length(key);
    const unsigned char *s = cbor_string_handle(key);
    if (s == NULL)
        return -1;
    for (int i = 0; i < K_COUNT; i++) {
        if (strlen(payload_keys[i]) == n && memcmp(payload_keys[i], s, n) == 0)
            return i;
    }
    return -1;
}

static int parse_module_id(const cbor_item_t *v, pa_bytes *out)
{
    if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
        return -1;
    size_t n = cbor_string_length(v);
    const unsigned char *s = cbor_string_handle(v);
    if (s == NULL || n == 0 || n > PA_ATTEST_MODULE_ID_MAX)
        return -1;
    /* printable ASCII only: it ends up in logs and on terminals */
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return -1;
    }
    out->data = s;
    out->len = n;
    return 0;
}

static int parse_pcrs(const cbor_item_t *v, pa_bytes pcrs[PA_ATTEST_PCR_COUNT], const char **why)
{
    *why = "payload: pcrs must map 1..32 distinct indexes 0..31 to 48-byte values";
    if (!cbor_isa_map(v) || !cbor_map_is_definite(v))
        return -1;
    size_t n = cbor_map_size(v);
    if (n == 0 || n > PA_ATTEST_PCR_COUNT)
        return -1;
    struct cbor_pair *pairs = cbor_map_handle(v);
    for (size_t i = 0; i < n; i++) {
        if (!cbor_isa_uint(pairs[i].key))
            return -1;
        uint64_t idx = cbor_get_int(pairs[i].key);
        if (idx >= PA_ATTEST_PCR_COUNT || pcrs[idx].data != NULL)
            return -1;
        if (get_bytes(pairs[i].value, PA_PCR_LEN, PA_PCR_LEN, &pcrs[idx]) != 0 ||
            !pcr_len_ok(pcrs[idx].len))
            return -1;
    }
    /* PCR0-2 decide debug mode and the image identity: they must be there */
    if (pcrs[0].data == NULL || pcrs[1].data == NULL || pcrs[2].data == NULL) {
        *why = "payload: PCR0, PCR1 and PCR2 are required";
        return -1;
    }
    return 0;
}

static int parse_cabundle(const cbor_item_t *v, pa_attest_payload *out)
{
    if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
        return -1;
    size_t n = cbor_array_size(v);
    if (n == 0 || n > PA_ATTEST_CABUNDLE_MAX)
        return -1;
    cbor_item_t **items = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        if (get_bytes(items[i], 1, PA_ATTEST_CERT_MAX, &out->cabundle[i]) != 0)
            return -1;
    }
    out->cabundle_len = n;
    return 0;
}

int pa_attest_payload_parse(const cbor_item_t *map, pa_attest_payload *out, const char **why)
{
    const char *reason = "payload is not a map";
    int seen[K_COUNT] = {0};

    memset(out, 0, sizeof *out);
    if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
        goto fail;
    size_t n = cbor_map_size(map);
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++) {
        int k = key_index(pairs[i].key);
        if (k < 0) {
            reason = "payload: unknown key";
            goto fail;
        }
        if (seen[k]) {
            reason = "payload: duplicate key";
            goto fail;
        }
        seen[k] = 1;
        const cbor_item_t *v = pairs[i].value;
        switch (k) {
        case K_MODULE_ID:
            reason = "payload: module_id must be printable text of 1..127 bytes";
            PA_GUARD_GOTO(parse_module_id(v, &out->module_id), fail);
            break;
        case K_DIGEST:
            reason = "payload: digest must be \"SHA384\"";
            PA_ENSURE_GOTO(cbor_isa_string(v) && cbor_string_is_definite(v) &&
                               cbor_string_handle(v) != NULL &&
                               cbor_string_length(v) == strlen(DIGEST_NAME) &&
                               memcmp(cbor_string_handle(v), DIGEST_NAME,
                                      strlen(DIGEST_NAME)) == 0,
                           fail);
            break;
        case K_TIMESTAMP:
            reason = "payload: timestamp must be a positive integer (ms)";
            PA_ENSURE_GOTO(cbor_isa_uint(v), fail);
            out->timestamp_ms = cbor_get_int(v);
            PA_ENSURE_GOTO(out->timestamp_ms > 0 && out->timestamp_ms <= (uint64_t)INT64_MAX,
                           fail);
            break;
        case K_PCRS:
            PA_GUARD_GOTO(parse_pcrs(v, out->pcrs, &reason), fail);
            break;
        case K_CERTIFICATE:
            reason = "payload: certificate must be 1..1024 bytes";
            PA_GUARD_GOTO(get_bytes(v, 1, PA_ATTEST_CERT_MAX, &out->certificate), fail);
            break;
        case K_CABUNDLE:
            reason = "payload: cabundle must hold 1..8 certificates of 1..1024 bytes";
            PA_GUARD_GOTO(parse_cabundle(v, out), fail);
            break;
        case K_PUBLIC_KEY:
            reason = "payload: public_key must be null or at most 1024 bytes";
            PA_GUARD_GOTO(get_optional_bytes(v, &out->public_key), fail);
            break;
        case K_USER_DATA:
            reason = "payload: user_data must be null or at most 1024 bytes";
            PA_GUARD_GOTO(get_optional_bytes(v, &out->user_data), fail);
            break;
        case K_NONCE:
            reason = "payload: nonce must be null or at most 1024 bytes";
            PA_GUARD_GOTO(get_optional_bytes(v, &out->nonce), fail);
            break;
        default:
            reason = "payload: unknown key";
            goto fail;
        }
    }
    /* public_key, user_data and nonce may be absent (same as null); the rest
     * is what makes it an attestation at all */
    for (int k = K_MODULE_ID; k <= K_CABUNDLE; k++) {
        if (!seen[k]) {
            reason = "payload: a required key is missing";
            goto fail;
        }
    }
    return 0;
fail:
    memset(out, 0, sizeof *out);
    if (why != NULL)
        *why = reason;
    return -1;
}
