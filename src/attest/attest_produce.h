/* Producing attestation documents: the enclave side only. A host or
 * client-library source including this header does not compile
 * (PA_TRUST_HOST, PA_TRUST_CLIENT: docs/DEVELOPING.md, "Trust split"). */
#ifndef PA_ATTEST_PRODUCE_H
#define PA_ATTEST_PRODUCE_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "attest_common.h"
#include "buf.h"
#include "result.h"

typedef struct pa_attest_platform pa_attest_platform;

/* The development platform: loads (or creates on first start) a P-384 root and
 * intermediate under dir (mode 0700, keys 0600), creates a fresh short-lived
 * leaf key and certificate in memory, and measures PCR0 = SHA-384 of the file
 * at exe_path. NULL on failure. */
pa_attest_platform *pa_attest_dev_open(const char *dir, const char *exe_path);
void pa_attest_platform_free(pa_attest_platform *p);
const uint8_t *pa_attest_pcr0(const pa_attest_platform *p); /* PA_PCR_LEN bytes */
/* The development root as PEM (malloc'd), for GET /attestation/root. */
char *pa_attest_root_pem(const pa_attest_platform *p);

/* A signed document binding the given fields (each NULL -> CBOR null, each at
 * most PA_ATTEST_FIELD_MAX bytes). out receives the COSE_Sign1 bytes: it is
 * reset first; a zeroed pa_buf is initialised with cap PA_ATTEST_DOC_MAX.
 * Thread-safe; renews the leaf key when it is older than an hour. */
PA_MUST_USE int pa_attest_document(pa_attest_platform *p, const uint8_t *public_key, size_t pk_len,
                                   const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                                   size_t nonce_len, pa_buf *out);

#endif
