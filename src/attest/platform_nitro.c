/* The Nitro provider: attestation documents, PCR0 and entropy from the
 * Nitro Secure Module through /dev/nsm (nsm.h). The NSM signs documents
 * with AWS's certificate chain; this process holds no attestation key. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "attest_platform.h"
#include "log.h"
#include "nsm.h"
#include "platform_internal.h"

typedef struct {
    int fd;                /* the device, or -1 with a caller's transport */
    pa_nsm_transport call; /* NULL: pa_nsm_call on fd */
    void *ctx;
    uint8_t pcr0[PA_PCR_LEN];
    int debug_mode; /* PCR0 all zero: started with nitro-cli --debug-mode */
} nitro_platform;

/* One request/response round trip into resp (wiped by the caller). The NSM
 * driver serialises ioctls itself, so callers on several threads need no
 * lock here. */
static int roundtrip(nitro_platform *p, const pa_buf *req, uint8_t *resp, size_t *resp_len)
{
    char err[160] = "";
    int r = p->call != NULL ? p->call(p->ctx, req, resp, resp_len, err, sizeof err)
                            : pa_nsm_call(p->fd, req, resp, resp_len, err, sizeof err);
    if (r != 0) {
        pa_log_error("nitro: %s", err);
        return -1;
    }
    return 0;
}

static int nitro_document(void *impl, const uint8_t *public_key, size_t pk_len,
                          const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                          size_t nonce_len, pa_buf *out)
{
    nitro_platform *p = impl;
    int rc = -1;
    char err[160] = "";
    size_t resp_len = 0;
    pa_buf req;
    pa_buf_init(&req, PA_NSM_REQUEST_MAX);
    uint8_t *resp = malloc(PA_NSM_RESPONSE_MAX);
    PA_ENSURE_GOTO(resp != NULL, cleanup);
    PA_GUARD_GOTO(
        pa_nsm_encode_attestation(user_data, ud_len, nonce, nonce_len, public_key, pk_len, &req),
        cleanup);
    PA_GUARD_GOTO(roundtrip(p, &req, resp, &resp_len), cleanup);
    if (pa_nsm_decode_attestation(resp, resp_len, out, err, sizeof err) != 0) {
        pa_log_error("nitro: %s", err);
        goto cleanup;
    }
    rc = 0;
cleanup:
    pa_buf_free(&req);
    free(resp);
    return rc;
}

/* GetRandom answers up to 256 bytes per call: as many calls as len needs,
 * the last one possibly used in part. */
static int nitro_random(void *impl, uint8_t *out, size_t len)
{
    nitro_platform *p = impl;
    int rc = -1;
    char err[160] = "";
    uint8_t chunk[PA_NSM_RANDOM_MAX];
    pa_buf req;
    pa_buf_init(&req, PA_NSM_REQUEST_MAX);
    uint8_t *resp = malloc(PA_NSM_RESPONSE_MAX);
    PA_ENSURE_GOTO(resp != NULL, cleanup);
    PA_GUARD_GOTO(pa_nsm_encode_get_random(&req), cleanup);
    for (size_t done = 0; done < len;) {
        size_t resp_len = 0, got = 0;
        PA_GUARD_GOTO(roundtrip(p, &req, resp, &resp_len), cleanup);
        if (pa_nsm_decode_get_random(resp, resp_len, chunk, sizeof chunk, &got, err, sizeof err) !=
            0) {
            pa_log_error("nitro: %s", err);
            goto cleanup;
        }
        size_t take = got < len - done ? got : len - done;
        memcpy(out + done, chunk, take);
        done += take;
    }
    rc = 0;
cleanup:
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (resp != NULL) {
        OPENSSL_cleanse(resp, PA_NSM_RESPONSE_MAX);
        free(resp);
    }
    pa_buf_free(&req);
    if (rc != 0 && out != NULL)
        OPENSSL_cleanse(out, len);
    return rc;
}

static const uint8_t *nitro_pcr0(const void *impl)
{
    return ((const nitro_platform *)impl)->pcr0;
}

static int nitro_is_development(const void *impl)
{
    return ((const nitro_platform *)impl)->debug_mode;
}

/* Verifiers use the AWS Nitro root pinned in the client: nothing to serve. */
static char *nitro_root_pem(const void *impl)
{
    (void)impl;
    return NULL;
}

static void nitro_free(void *impl)
{
    nitro_platform *p = impl;
    if (p == NULL)
        return;
    if (p->fd >= 0)
        close(p->fd);
    free(p);
}

static const pa_attest_provider nitro_provider = {
    .name = "nitro",
    .document = nitro_document,
    .pcr0 = nitro_pcr0,
    .random = nitro_random,
    .is_development = nitro_is_development,
    .root_pem = nitro_root_pem,
    .free = nitro_free,
};

/* PCR0, the measurement of the EIF (kernel, command line, ramdisks), set by
 * the hypervisor before the enclave boots and locked. */
static int read_pcr0(nitro_platform *p)
{
    int rc = -1;
    char err[160] = "";
    size_t resp_len = 0, n = 0;
    int lock = 0;
    uint8_t data[PA_NSM_PCR_MAX];
    pa_buf req;
    pa_buf_init(&req, PA_NSM_REQUEST_MAX);
    uint8_t *resp = malloc(PA_NSM_RESPONSE_MAX);
    PA_ENSURE_GOTO(resp != NULL, cleanup);
    PA_GUARD_GOTO(pa_nsm_encode_describe_pcr(0, &req), cleanup);
    PA_GUARD_GOTO(roundtrip(p, &req, resp, &resp_len), cleanup);
    if (pa_nsm_decode_describe_pcr(resp, resp_len, &lock, data, &n, err, sizeof err) != 0) {
        pa_log_error("nitro: %s", err);
        goto cleanup;
    }
    if (!lock || n != PA_PCR_LEN) {
        pa_log_error("nitro: PCR0 is %s", !lock ? "not locked" : "not a SHA-384 value");
        goto cleanup;
    }
    memcpy(p->pcr0, data, PA_PCR_LEN);
    static const uint8_t zero[PA_PCR_LEN] = {0};
    p->debug_mode = CRYPTO_memcmp(p->pcr0, zero, PA_PCR_LEN) == 0;
    rc = 0;
cleanup:
    pa_buf_free(&req);
    free(resp);
    return rc;
}

/* Reads PCR0 and wraps p (which it frees on failure). */
static pa_attest_platform *finish_open(nitro_platform *p)
{
    if (read_pcr0(p) != 0) {
        nitro_free(p);
        return NULL;
    }
    if (p->debug_mode)
        pa_log_warn("nitro: enclave runs in debug mode (PCR0 is zero): results say development");
    return pa_attest_platform_wrap(&nitro_provider, p);
}

pa_attest_platform *pa_attest_nitro_open(const char *device_path)
{
    if (device_path == NULL)
        return NULL;
    nitro_platform *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->fd = open(device_path, O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        pa_log_error("nitro: cannot open %s: %s", device_path, strerror(errno));
        nitro_free(p);
        return NULL;
    }
    return finish_open(p);
}

pa_attest_platform *pa_attest_nitro_open_transport(pa_nsm_transport call, void *ctx)
{
    if (call == NULL)
        return NULL;
    nitro_platform *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->fd = -1;
    p->call = call;
    p->ctx = ctx;
    return finish_open(p);
}
