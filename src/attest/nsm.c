/* The NSM request/response codec and the ioctl round trip (nsm.h). */
#include "nsm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cbor.h>
#include <openssl/crypto.h>

#include "attest_internal.h"

/* include/uapi/linux/nsm.h (Linux 6.8+; Debian 12's headers predate it).
 * On the 64-bit machines Nitro runs, the Rust driver's pair of struct iovec
 * has the same layout and therefore the same ioctl number. */
struct pa_nsm_iovec {
    uint64_t addr;
    uint64_t len;
};
struct pa_nsm_raw {
    struct pa_nsm_iovec request;
    struct pa_nsm_iovec response;
};
_Static_assert(sizeof(struct pa_nsm_raw) == 32, "struct nsm_raw is 32 bytes");
#define PA_NSM_MAGIC 0x0A
#define PA_NSM_IOCTL_RAW _IOWR(PA_NSM_MAGIC, 0x0, struct pa_nsm_raw)

#define NSM_MAX_DEPTH 3 /* {variant: {field: value}} */

/* ---- encoding ----------------------------------------------------------------- */

static cbor_item_t *text(const char *s)
{
    return cbor_build_stringn(s, strlen(s));
}

static cbor_item_t *bytes_or_null(const uint8_t *data, size_t len)
{
    return data == NULL ? cbor_new_null() : pa_cbor_build_bytes(data, len);
}

/* {variant: body}, serialized onto out; always drops the body reference. */
static int encode_variant(const char *variant, cbor_item_t *body, pa_buf *out)
{
    int rc = -1;
    cbor_item_t *outer = cbor_new_definite_map(1);
    PA_GUARD_GOTO(pa_cbor_map_put(outer, text(variant), body), cleanup);
    body = NULL;
    PA_GUARD_GOTO(pa_cbor_serialize(outer, out), cleanup);
    PA_ENSURE_GOTO(out->len <= PA_NSM_REQUEST_MAX, cleanup);
    rc = 0;
cleanup:
    if (body != NULL)
        cbor_decref(&body);
    if (outer != NULL)
        cbor_decref(&outer);
    return rc;
}

int pa_nsm_encode_get_random(pa_buf *out)
{
    PA_ENSURE(out != NULL);
    /* a unit variant: serde_cbor writes just its name */
    cbor_item_t *name = text("GetRandom");
    int rc = pa_cbor_serialize(name, out);
    if (name != NULL)
        cbor_decref(&name);
    return rc;
}

int pa_nsm_encode_describe_pcr(uint16_t index, pa_buf *out)
{
    PA_ENSURE(out != NULL);
    cbor_item_t *body = cbor_new_definite_map(1);
    if (pa_cbor_map_put(body, text("index"), pa_cbor_build_uint(index)) != 0) {
        if (body != NULL)
            cbor_decref(&body);
        return -1;
    }
    return encode_variant("DescribePCR", body, out);
}

int pa_nsm_encode_attestation(const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                              size_t nonce_len, const uint8_t *public_key, size_t pk_len,
                              pa_buf *out)
{
    PA_ENSURE(out != NULL);
    PA_ENSURE((user_data != NULL || ud_len == 0) && (nonce != NULL || nonce_len == 0) &&
              (public_key != NULL || pk_len == 0));
    PA_ENSURE(ud_len <= PA_ATTEST_FIELD_MAX && nonce_len <= PA_ATTEST_FIELD_MAX &&
              pk_len <= PA_ATTEST_FIELD_MAX);
    /* the order of the Rust struct's fields, which serde_cbor keeps */
    cbor_item_t *body = cbor_new_definite_map(3);
    if (pa_cbor_map_put(body, text("user_data"), bytes_or_null(user_data, ud_len)) != 0 ||
        pa_cbor_map_put(body, text("nonce"), bytes_or_null(nonce, nonce_len)) != 0 ||
        pa_cbor_map_put(body, text("public_key"), bytes_or_null(public_key, pk_len)) != 0) {
        if (body != NULL)
            cbor_decref(&body);
        return -1;
    }
    return encode_variant("Attestation", body, out);
}

/* ---- decoding ----------------------------------------------------------------- */

static int text_is(const cbor_item_t *item, const char *s)
{
    size_t n = strlen(s);
    return cbor_isa_string(item) && cbor_string_is_definite(item) &&
           cbor_string_length(item) == n && memcmp(cbor_string_handle(item), s, n) == 0;
}

/* ErrorCode in aws-nitro-enclaves-nsm-api, src/api/mod.rs. */
static const char *const nsm_error_codes[] = {
    "Success",          "InvalidArgument", "InvalidIndex",  "InvalidResponse", "ReadOnlyIndex",
    "InvalidOperation", "BufferTooSmall",  "InputTooLarge", "InternalError",
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Parses resp as {variant: {fields...}} with exactly the n named fields,
 * each stored in vals[i] (borrowed from the returned item, which the caller
 * cbor_decrefs). NULL with err on an Error answer or any other shape. */
static cbor_item_t *decode_variant(const uint8_t *resp, size_t resp_len, const char *variant,
                                   const char *const *names, size_t n, cbor_item_t **vals,
                                   char *err, size_t errlen)
{
    if (resp == NULL || resp_len == 0 || resp_len > PA_NSM_RESPONSE_MAX) {
        set_err(err, errlen, "NSM %s response is empty or over 0x3000 bytes", variant);
        return NULL;
    }
    cbor_item_t *item = pa_cbor_load_strict(resp, resp_len, NSM_MAX_DEPTH);
    if (item == NULL) {
        set_err(err, errlen, "NSM %s response is not one well-formed CBOR item", variant);
        return NULL;
    }
    if (!cbor_isa_map(item) || !cbor_map_is_definite(item) || cbor_map_size(item) != 1)
        goto shape;
    struct cbor_pair top = cbor_map_handle(item)[0];
    if (text_is(top.key, "Error")) {
        for (size_t i = 0; i < PA_ARRAY_LEN(nsm_error_codes); i++) {
            if (text_is(top.value, nsm_error_codes[i])) {
                set_err(err, errlen, "NSM answered Error: %s", nsm_error_codes[i]);
                cbor_decref(&item);
                return NULL;
            }
        }
        set_err(err, errlen, "NSM %s answer is an Error with an unknown code", variant);
        cbor_decref(&item);
        return NULL;
    }
    if (!text_is(top.key, variant) || !cbor_isa_map(top.value) ||
        !cbor_map_is_definite(top.value) || cbor_map_size(top.value) != n)
        goto shape;
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL;
    struct cbor_pair *fields = cbor_map_handle(top.value);
    for (size_t f = 0; f < n; f++) {
        size_t i = 0;
        while (i < n && !text_is(fields[f].key, names[i]))
            i++;
        if (i == n || vals[i] != NULL) /* unknown or repeated field */
            goto shape;
        vals[i] = fields[f].value;
    }
    return item;
shape:
    set_err(err, errlen, "NSM answer is not the expected %s response", variant);
    cbor_decref(&item);
    return NULL;
}

static int is_bytes(const cbor_item_t *v)
{
    return cbor_isa_bytestring(v) && cbor_bytestring_is_definite(v);
}

int pa_nsm_decode_get_random(const uint8_t *resp, size_t resp_len, uint8_t *out, size_t cap,
                             size_t *len, char *err, size_t errlen)
{
    static const char *const names[] = {"random"};
    cbor_item_t *v[1];
    PA_ENSURE(out != NULL && len != NULL);
    cbor_item_t *item = decode_variant(resp, resp_len, "GetRandom", names, 1, v, err, errlen);
    PA_ENSURE(item != NULL);
    int rc = -1;
    size_t n = is_bytes(v[0]) ? cbor_bytestring_length(v[0]) : 0;
    if (n == 0 || n > PA_NSM_RANDOM_MAX || n > cap) {
        set_err(err, errlen, "NSM %s: random must be 1..256 bytes and fit the buffer", "GetRandom");
        goto cleanup;
    }
    memcpy(out, cbor_bytestring_handle(v[0]), n);
    *len = n;
    rc = 0;
cleanup:
    /* the random bytes may become key material: wipe libcbor's copy */
    if (is_bytes(v[0]) && cbor_bytestring_handle(v[0]) != NULL)
        OPENSSL_cleanse(cbor_bytestring_handle(v[0]), cbor_bytestring_length(v[0]));
    cbor_decref(&item);
    return rc;
}

int pa_nsm_decode_describe_pcr(const uint8_t *resp, size_t resp_len, int *lock,
                               uint8_t out[PA_NSM_PCR_MAX], size_t *len, char *err, size_t errlen)
{
    static const char *const names[] = {"lock", "data"};
    cbor_item_t *v[2];
    PA_ENSURE(lock != NULL && out != NULL && len != NULL);
    cbor_item_t *item = decode_variant(resp, resp_len, "DescribePCR", names, 2, v, err, errlen);
    PA_ENSURE(item != NULL);
    int rc = -1;
    size_t n = is_bytes(v[1]) ? cbor_bytestring_length(v[1]) : 0;
    if (!cbor_is_bool(v[0]) || (n != 32 && n != 48 && n != 64)) {
        set_err(err, errlen, "NSM %s: lock must be a bool and data 32, 48 or 64 bytes",
                "DescribePCR");
        goto cleanup;
    }
    *lock = cbor_get_bool(v[0]) ? 1 : 0;
    memcpy(out, cbor_bytestring_handle(v[1]), n);
    *len = n;
    rc = 0;
cleanup:
    cbor_decref(&item);
    return rc;
}

int pa_nsm_decode_attestation(const uint8_t *resp, size_t resp_len, pa_buf *doc, char *err,
                              size_t errlen)
{
    static const char *const names[] = {"document"};
    cbor_item_t *v[1];
    PA_ENSURE(doc != NULL);
    cbor_item_t *item = decode_variant(resp, resp_len, "Attestation", names, 1, v, err, errlen);
    PA_ENSURE(item != NULL);
    int rc = -1;
    size_t n = is_bytes(v[0]) ? cbor_bytestring_length(v[0]) : 0;
    if (n == 0 || pa_buf_append(doc, cbor_bytestring_handle(v[0]), n) != 0) {
        set_err(err, errlen, "NSM %s: document missing, empty or over the cap", "Attestation");
        goto cleanup;
    }
    rc = 0;
cleanup:
    cbor_decref(&item);
    return rc;
}

/* ---- the device ------------------------------------------------------------- */

int pa_nsm_call(int fd, const pa_buf *request, uint8_t resp[PA_NSM_RESPONSE_MAX], size_t *resp_len,
                char *err, size_t errlen)
{
    PA_ENSURE(fd >= 0 && request != NULL && resp != NULL && resp_len != NULL);
    if (request->len == 0 || request->len > PA_NSM_REQUEST_MAX) {
        set_err(err, errlen, "NSM request of %s size", "invalid");
        return -1;
    }
    struct pa_nsm_raw raw = {
        .request = {.addr = (uint64_t)(uintptr_t)request->data, .len = request->len},
        .response = {.addr = (uint64_t)(uintptr_t)resp, .len = PA_NSM_RESPONSE_MAX},
    };
    int r;
    do {
        r = ioctl(fd, PA_NSM_IOCTL_RAW, &raw);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        /* the driver says EMSGSIZE for a request it finds too large */
        set_err(err, errlen, "NSM ioctl failed: %s", strerror(errno));
        return -1;
    }
    if (raw.response.len == 0 || raw.response.len > PA_NSM_RESPONSE_MAX) {
        set_err(err, errlen, "NSM response length %s", "out of range");
        return -1;
    }
    *resp_len = (size_t)raw.response.len;
    return 0;
}
