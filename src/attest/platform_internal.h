/* The producing side's platform interface: what an attestation provider
 * supplies behind pa_attest_platform (attest_platform.h). Two providers:
 * development (attest_produce.c + dev_ca.c: an in-process stand-in with a
 * development CA) and Nitro (platform_nitro.c: the Nitro Secure Module
 * through /dev/nsm). Internal to src/attest. */
#ifndef PA_PLATFORM_INTERNAL_H
#define PA_PLATFORM_INTERNAL_H

/* enclave only (the trust split of docs/DEVELOPING.md) */
#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "attest_produce.h"
#include "buf.h"
#include "result.h"

typedef struct {
    const char *name; /* "development", "nitro" */
    /* A signed COSE_Sign1 document binding the fields (NULL: CBOR null),
     * appended to out (reset and sized by the caller). Arguments are already
     * checked against PA_ATTEST_FIELD_MAX. */
    int (*document)(void *impl, const uint8_t *public_key, size_t pk_len, const uint8_t *user_data,
                    size_t ud_len, const uint8_t *nonce, size_t nonce_len, pa_buf *out);
    const uint8_t *(*pcr0)(const void *impl); /* PA_PCR_LEN bytes */
    /* len bytes from the platform's own entropy source. */
    int (*random)(void *impl, uint8_t *out, size_t len);
    /* 1 when results must say "environment": "development". */
    int (*is_development)(const void *impl);
    char *(*root_pem)(const void *impl); /* malloc'd PEM, or NULL: no local root */
    void (*free)(void *impl);
} pa_attest_provider;

/* Wraps a provider's state; on failure calls ops->free(impl) and returns NULL. */
pa_attest_platform *pa_attest_platform_wrap(const pa_attest_provider *ops, void *impl);

#endif
