/* Small X.509 / key helpers both halves of attestation share. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include <openssl/crypto.h>

#include "attest_internal.h"
#include "codec.h"

int pa_attest_key_is_p384(const EVP_PKEY *key)
{
    char group[64];
    size_t glen = 0;
    if (key == NULL || !EVP_PKEY_is_a(key, "EC"))
        return 0;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &glen))
        return 0;
    return strcmp(group, SN_secp384r1) == 0;
}

int pa_attest_cert_der(X509 *cert, uint8_t **der, size_t *len)
{
    if (cert == NULL || der == NULL || len == NULL)
        return -1;
    *der = NULL;
    int n = i2d_X509(cert, der); /* allocates when *der is NULL */
    if (n <= 0 || *der == NULL)
        return -1;
    *len = (size_t)n;
    return 0;
}

X509 *pa_attest_cert_parse(const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0 || len > PA_ATTEST_CERT_MAX)
        return NULL;
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    /* a DER certificate followed by anything is not "a certificate" */
    if (cert != NULL && p != der + len) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int pa_attest_cert_sha256_is(X509 *cert, const char *expect_hex)
{
    uint8_t want[32], got[32];
    unsigned int n = 0;
    if (cert == NULL || expect_hex == NULL || pa_hex_decode_exact(expect_hex, want, 32) != 0)
        return 0;
    if (X509_digest(cert, EVP_sha256(), got, &n) != 1 || n != 32)
        return 0;
    return CRYPTO_memcmp(want, got, 32) == 0;
}
