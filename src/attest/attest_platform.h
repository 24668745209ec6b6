/* The attestation platform the enclave runs on (producing side). One
 * interface, two providers (docs/NITRO.md):
 *
 *   nitro        the AWS Nitro Secure Module through /dev/nsm: documents
 *                signed by AWS's chain, PCR0 = the EIF's measurement,
 *                entropy from the NSM;
 *   development  a local stand-in: a development CA under var/, PCR0 =
 *                SHA-384 of the executable; every result says
 *                "environment": "development".
 *
 * pa_attest_document, pa_attest_pcr0, pa_attest_root_pem and
 * pa_attest_platform_free (attest_produce.h) work on either. The production enclave
 * passes no development opener to pa_attest_platform_open, so it runs on
 * Nitro only and the development provider's code is not linked into it. */
#ifndef PA_ATTEST_PLATFORM_H
#define PA_ATTEST_PLATFORM_H

/* enclave only (the trust split of docs/DEVELOPING.md) */
#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "attest_produce.h"
#include "result.h"

#define PA_NSM_DEVICE "/dev/nsm"

typedef enum {
    PA_PLATFORM_AUTO, /* nitro when the NSM device exists, else development */
    PA_PLATFORM_NITRO,
    PA_PLATFORM_DEVELOPMENT,
} pa_platform_choice;

/* The Nitro provider on the NSM device at path (PA_NSM_DEVICE): reads PCR0
 * with DescribePCR (it must be locked and 48 bytes). NULL on failure. */
pa_attest_platform *pa_attest_nitro_open(const char *device_path);

/* "nitro", "development" or "auto" (NULL or empty: auto). */
PA_MUST_USE int pa_attest_platform_choice_parse(const char *s, pa_platform_choice *out);

/* How the development provider is opened (pa_attest_dev_open); passed in
 * so that a build without it never references its code. */
typedef pa_attest_platform *(*pa_attest_dev_opener)(const char *dir, const char *exe_path);

/* Opens the chosen provider. AUTO picks nitro when nsm_device (NULL:
 * PA_NSM_DEVICE) exists. With dev_open NULL (the production enclave) only
 * nitro is possible: DEVELOPMENT is refused and AUTO means NITRO. dev_dir and
 * exe_path go to dev_open. NULL with a sentence in err on failure. */
pa_attest_platform *pa_attest_platform_open(pa_platform_choice choice, const char *nsm_device,
                                            pa_attest_dev_opener dev_open, const char *dev_dir,
                                            const char *exe_path, char *err, size_t errlen);

const char *pa_attest_platform_name(const pa_attest_platform *p);
/* 1 when results made on this platform must say "environment":
 * "development": the development provider, and a Nitro enclave in debug mode
 * (PCR0 all zero: its documents are refused by verifiers anyway). */
int pa_attest_platform_is_development(const pa_attest_platform *p);
/* len bytes from the platform's entropy source (the NSM on Nitro). */
PA_MUST_USE int pa_attest_platform_random(pa_attest_platform *p, uint8_t *out, size_t len);
/* Mixes PA_PLATFORM_SEED_LEN bytes of platform entropy into OpenSSL's
 * random generator (RAND_add). Call before generating long-term keys. */
#define PA_PLATFORM_SEED_LEN 256
PA_MUST_USE int pa_attest_platform_seed_rng(pa_attest_platform *p);

#endif
