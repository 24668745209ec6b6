/* The platform interface (attest_platform.h): dispatch to the provider, the
 * argument checks every provider shares, and provider selection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "attest_platform.h"
#include "platform_internal.h"

struct pa_attest_platform {
    const pa_attest_provider *ops;
    void *impl;
};

pa_attest_platform *pa_attest_platform_wrap(const pa_attest_provider *ops, void *impl)
{
    pa_attest_platform *p = calloc(1, sizeof *p);
    if (p == NULL) {
        ops->free(impl);
        return NULL;
    }
    p->ops = ops;
    p->impl = impl;
    return p;
}

void pa_attest_platform_free(pa_attest_platform *p)
{
    if (p == NULL)
        return;
    p->ops->free(p->impl);
    free(p);
}

const uint8_t *pa_attest_pcr0(const pa_attest_platform *p)
{
    return p != NULL ? p->ops->pcr0(p->impl) : NULL;
}

char *pa_attest_root_pem(const pa_attest_platform *p)
{
    return p != NULL ? p->ops->root_pem(p->impl) : NULL;
}

const char *pa_attest_platform_name(const pa_attest_platform *p)
{
    return p != NULL ? p->ops->name : "none";
}

int pa_attest_platform_is_development(const pa_attest_platform *p)
{
    return p == NULL || p->ops->is_development(p->impl);
}

int pa_attest_platform_random(pa_attest_platform *p, uint8_t *out, size_t len)
{
    PA_ENSURE(p != NULL && (out != NULL || len == 0));
    return p->ops->random(p->impl, out, len);
}

int pa_attest_platform_seed_rng(pa_attest_platform *p)
{
    uint8_t seed[PA_PLATFORM_SEED_LEN];
    int rc = -1;
    PA_GUARD_GOTO(pa_attest_platform_random(p, seed, sizeof seed), cleanup);
    /* RAND_add reseeds OpenSSL's primary DRBG with this input on top of its
     * own sources; it can only add entropy. */
    RAND_add(seed, (int)sizeof seed, (double)sizeof seed);
    PA_ENSURE_GOTO(RAND_status() == 1, cleanup);
    rc = 0;
cleanup:
    OPENSSL_cleanse(seed, sizeof seed);
    return rc;
}

int pa_attest_document(pa_attest_platform *p, const uint8_t *public_key, size_t pk_len,
                       const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                       size_t nonce_len, pa_buf *out)
{
    if (p == NULL || out == NULL || pk_len > PA_ATTEST_FIELD_MAX || ud_len > PA_ATTEST_FIELD_MAX ||
        nonce_len > PA_ATTEST_FIELD_MAX || (public_key == NULL && pk_len != 0) ||
        (user_data == NULL && ud_len != 0) || (nonce == NULL && nonce_len != 0))
        return -1;
    /* a zeroed pa_buf gets the document cap; an initialised one keeps its own */
    if (out->data == NULL && out->cap == 0)
        pa_buf_init(out, PA_ATTEST_DOC_MAX);
    pa_buf_reset(out);
    if (p->ops->document(p->impl, public_key, pk_len, user_data, ud_len, nonce, nonce_len, out) !=
        0) {
        pa_buf_reset(out);
        return -1;
    }
    return 0;
}

int pa_attest_platform_choice_parse(const char *s, pa_platform_choice *out)
{
    PA_ENSURE(out != NULL);
    if (s == NULL || *s == '\0' || strcmp(s, "auto") == 0)
        *out = PA_PLATFORM_AUTO;
    else if (strcmp(s, "nitro") == 0)
        *out = PA_PLATFORM_NITRO;
    else if (strcmp(s, "development") == 0)
        *out = PA_PLATFORM_DEVELOPMENT;
    else
        return -1;
    return 0;
}

pa_attest_platform *pa_attest_platform_open(pa_platform_choice choice, const char *nsm_device,
                                            pa_attest_dev_opener dev_open, const char *dev_dir,
                                            const char *exe_path, char *err, size_t errlen)
{
    pa_attest_platform *p = NULL;
    if (nsm_device == NULL)
        nsm_device = PA_NSM_DEVICE;
    if (choice == PA_PLATFORM_AUTO) {
        if (dev_open == NULL)
            choice = PA_PLATFORM_NITRO;
        else
            choice = access(nsm_device, F_OK) == 0 ? PA_PLATFORM_NITRO : PA_PLATFORM_DEVELOPMENT;
    }
    if (choice == PA_PLATFORM_NITRO) {
        p = pa_attest_nitro_open(nsm_device);
        if (p == NULL)
            snprintf(err, errlen, "the Nitro Secure Module (%s) is unavailable", nsm_device);
        return p;
    }
    if (dev_open == NULL) {
        snprintf(err, errlen, "the production enclave runs on the Nitro platform only");
        return NULL;
    }
    p = dev_open(dev_dir, exe_path);
    if (p == NULL)
        snprintf(err, errlen, "the development attestation platform is unavailable (%s)",
                 dev_dir != NULL ? dev_dir : "no directory");
    return p;
}
