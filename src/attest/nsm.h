/* The Nitro Secure Module (NSM) protocol, as AWS defines it in
 * aws-nitro-enclaves-nsm-api (src/api, src/driver) and Linux's
 * include/uapi/linux/nsm.h:
 *
 *   ioctl(fd, _IOWR(0x0A, 0, struct nsm_raw), &msg) on /dev/nsm, where
 *   msg = {request iovec, response iovec}: the request is one CBOR item of at
 *   most 0x1000 bytes, the driver writes the CBOR response (at most 0x3000
 *   bytes) and sets the response length.
 *
 * Messages are serde_cbor's encoding of the Request / Response enums:
 *   "GetRandom"                                  -> {"GetRandom": {"random": bstr}}
 *   {"DescribePCR": {"index": uint}}             -> {"DescribePCR": {"lock": bool, "data": bstr}}
 *   {"Attestation": {"user_data": bstr / null,
 *                    "nonce": bstr / null,
 *                    "public_key": bstr / null}} -> {"Attestation": {"document": bstr}}
 * and any request may be answered {"Error": "<ErrorCode>"}.
 *
 * Encoders append to a pa_buf; decoders accept exactly the shapes above
 * (no extra, missing or duplicate fields, no indefinite lengths, nothing after
 * the item) and write a short reason to err on failure. Internal to
 * src/attest; tests/unit/test_nsm.c pins the bytes. */
#ifndef PA_NSM_H
#define PA_NSM_H

/* enclave only (the trust split of docs/DEVELOPING.md) */
#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "attest_produce.h"
#include "buf.h"
#include "result.h"

#define PA_NSM_REQUEST_MAX 0x1000  /* NSM_REQUEST_MAX_SIZE */
#define PA_NSM_RESPONSE_MAX 0x3000 /* NSM_RESPONSE_MAX_SIZE */
#define PA_NSM_RANDOM_MAX 256      /* GetRandom answers at most this much */
#define PA_NSM_PCR_MAX 64          /* SHA-512 banks; Nitro uses SHA-384 (48) */

PA_MUST_USE int pa_nsm_encode_get_random(pa_buf *out);
PA_MUST_USE int pa_nsm_encode_describe_pcr(uint16_t index, pa_buf *out);
/* Each field: data NULL -> CBOR null (then len must be 0). */
PA_MUST_USE int pa_nsm_encode_attestation(const uint8_t *user_data, size_t ud_len,
                                          const uint8_t *nonce, size_t nonce_len,
                                          const uint8_t *public_key, size_t pk_len, pa_buf *out);

/* random: 1..PA_NSM_RANDOM_MAX bytes into out (cap bytes), *len set. */
PA_MUST_USE int pa_nsm_decode_get_random(const uint8_t *resp, size_t resp_len, uint8_t *out,
                                         size_t cap, size_t *len, char *err, size_t errlen);
/* data: 32, 48 or 64 bytes into out[PA_NSM_PCR_MAX], *len set. */
PA_MUST_USE int pa_nsm_decode_describe_pcr(const uint8_t *resp, size_t resp_len, int *lock,
                                           uint8_t out[PA_NSM_PCR_MAX], size_t *len, char *err,
                                           size_t errlen);
/* document: 1..doc->cap bytes appended to doc (which the caller resets). */
PA_MUST_USE int pa_nsm_decode_attestation(const uint8_t *resp, size_t resp_len, pa_buf *doc,
                                          char *err, size_t errlen);

/* One request/response round trip with the device: resp receives up to
 * PA_NSM_RESPONSE_MAX bytes, *resp_len the length the driver reports. */
PA_MUST_USE int pa_nsm_call(int fd, const pa_buf *request, uint8_t resp[PA_NSM_RESPONSE_MAX],
                            size_t *resp_len, char *err, size_t errlen);

/* How the Nitro provider reaches the NSM: pa_nsm_call on the device, or
 * another transport with the same contract (tests/unit/test_nsm.c scripts
 * one, since no NSM exists where the tests run). */
typedef int (*pa_nsm_transport)(void *ctx, const pa_buf *request, uint8_t resp[PA_NSM_RESPONSE_MAX],
                                size_t *resp_len, char *err, size_t errlen);

/* The Nitro provider over a transport (pa_attest_nitro_open uses the device).
 * ctx stays the caller's. NULL on failure, as pa_attest_nitro_open. */
pa_attest_platform *pa_attest_nitro_open_transport(pa_nsm_transport call, void *ctx);

#endif
