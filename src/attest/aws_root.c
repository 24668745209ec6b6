/* The AWS Nitro Enclaves Root G1 certificate, compiled into the client so
 * that no root is ever fetched from the server being verified. It is a public
 * certificate, published by AWS in AWS_NitroEnclaves_Root-G1.zip; the PEM is
 * also checked against PA_AWS_NITRO_ROOT_SHA256 (SHA-256 of its DER) before
 * use, so an edit to either one alone is caught at run time. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "attest_internal.h"
#include "attest_verify.h"

static const char aws_nitro_root_g1_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL\n"
    "MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD\n"
    "VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4\n"
    "MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL\n"
    "DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG\n"
    "BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb\n"
    "48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE\n"
    "h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF\n"
    "R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC\n"
    "MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW\n"
    "rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N\n"
    "IwLz3/Y=\n"
    "-----END CERTIFICATE-----\n";

X509 *pa_attest_aws_root(void)
{
    BIO *bio = BIO_new_mem_buf(aws_nitro_root_g1_pem, (int)(sizeof aws_nitro_root_g1_pem - 1));
    if (bio == NULL)
        return NULL;
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (cert == NULL || !pa_attest_cert_sha256_is(cert, PA_AWS_NITRO_ROOT_SHA256)) {
        X509_free(cert);
        ERR_clear_error();
        return NULL;
    }
    return cert;
}
