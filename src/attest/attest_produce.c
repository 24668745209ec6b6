/* The development attestation platform: what the Nitro Security Module does
 * on real hardware (measure the image, hold a short-lived signing key
 * certified by a CA chain, sign documents), done in-process with the dev CA. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "attest_internal.h"
#include "attest_produce.h"
#include "codec.h"
#include "log.h"
#include "platform_internal.h"
#include "timeutil.h"

#define DEV_PCR_COUNT 16                           /* what Nitro reports: PCR0..PCR15 */
#define LEAF_LIFETIME_S ((int64_t)3 * 3600)        /* like Nitro's ~3 h leaf certificates */
#define LEAF_RENEW_AFTER_MS ((int64_t)3600 * 1000) /* so every leaf has >= 2 h left */
#define LEAF_BACKDATE_S 60
#define EXE_READ_CHUNK ((size_t)64 * 1024)

typedef struct {
    pthread_mutex_t lock; /* guards the leaf_* fields */
    X509 *root;
    X509 *inter;
    EVP_PKEY *inter_key;
    uint8_t *root_der, *inter_der;
    size_t root_der_len, inter_der_len;
    char *root_pem;
    EVP_PKEY *leaf_key;
    uint8_t *leaf_der;
    size_t leaf_der_len;
    int64_t leaf_issued_ms;
    uint8_t pcr0[PA_PCR_LEN];
    char module_id[64];
} dev_platform;

/* PCR0 of the development platform: SHA-384 of the executable, streamed. */
static int measure_file(const char *path, uint8_t out[PA_PCR_LEN])
{
    int rc = -1;
    uint8_t *chunk = NULL;
    EVP_MD_CTX *md = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pa_log_error("attest: cannot open %s to measure it: %s", path, strerror(errno));
        return -1;
    }
    chunk = malloc(EXE_READ_CHUNK);
    md = EVP_MD_CTX_new();
    PA_ENSURE_GOTO(chunk != NULL && md != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1, cleanup);
    for (;;) {
        ssize_t n = read(fd, chunk, EXE_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        PA_ENSURE_GOTO(n >= 0, cleanup);
        if (n == 0)
            break;
        PA_ENSURE_GOTO(EVP_DigestUpdate(md, chunk, (size_t)n) == 1, cleanup);
    }
    unsigned int len = 0;
    PA_ENSURE_GOTO(EVP_DigestFinal_ex(md, out, &len) == 1 && len == PA_PCR_LEN, cleanup);
    rc = 0;
cleanup:
    EVP_MD_CTX_free(md);
    free(chunk);
    close(fd);
    return rc;
}

/* Replaces the leaf key and certificate. Caller holds p->lock. */
static int renew_leaf(dev_platform *p, int64_t now_ms)
{
    int rc = -1;
    X509 *cert = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    EVP_PKEY *key = pa_devca_keygen();
    PA_ENSURE_GOTO(key != NULL, cleanup);
    int64_t now = now_ms / 1000;
    cert = pa_devca_issue(key, p->module_id, PA_DEVCA_LEAF, p->inter, p->inter_key,
                          now - LEAF_BACKDATE_S, now + LEAF_LIFETIME_S);
    PA_ENSURE_GOTO(cert != NULL, cleanup);
    PA_GUARD_GOTO(pa_attest_cert_der(cert, &der, &der_len), cleanup);
    PA_ENSURE_GOTO(der_len <= PA_ATTEST_CERT_MAX, cleanup);

    EVP_PKEY_free(p->leaf_key);
    OPENSSL_free(p->leaf_der);
    p->leaf_key = key;
    p->leaf_der = der;
    p->leaf_der_len = der_len;
    p->leaf_issued_ms = now_ms;
    key = NULL;
    der = NULL;
    rc = 0;
cleanup:
    EVP_PKEY_free(key);
    OPENSSL_free(der);
    X509_free(cert);
    return rc;
}

static char *cert_pem(X509 *cert)
{
    char *out = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != NULL)
            out = strndup(data, (size_t)n);
    }
    BIO_free(bio);
    return out;
}

static void dev_free(void *impl)
{
    dev_platform *p = impl;
    if (p == NULL)
        return;
    EVP_PKEY_free(p->leaf_key);
    EVP_PKEY_free(p->inter_key);
    X509_free(p->root);
    X509_free(p->inter);
    OPENSSL_free(p->root_der);
    OPENSSL_free(p->inter_der);
    OPENSSL_free(p->leaf_der);
    free(p->root_pem);
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(p, sizeof *p);
    free(p);
}

static const uint8_t *dev_pcr0(const void *impl)
{
    return ((const dev_platform *)impl)->pcr0;
}

static char *dev_root_pem(const void *impl)
{
    const dev_platform *p = impl;
    return p->root_pem != NULL ? strdup(p->root_pem) : NULL;
}

/* The development platform has no entropy source of its own: the process's
 * CSPRNG (OpenSSL, seeded by the kernel's getrandom) is all there is. */
static int dev_random(void *impl, uint8_t *out, size_t len)
{
    (void)impl;
    PA_ENSURE(len <= INT32_MAX);
    return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

static int dev_is_development(const void *impl)
{
    (void)impl;
    return 1;
}

static int dev_document(void *impl, const uint8_t *public_key, size_t pk_len,
                        const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                        size_t nonce_len, pa_buf *out);

static const pa_attest_provider dev_provider = {
    .name = "development",
    .document = dev_document,
    .pcr0 = dev_pcr0,
    .random = dev_random,
    .is_development = dev_is_development,
    .root_pem = dev_root_pem,
    .free = dev_free,
};

pa_attest_platform *pa_attest_dev_open(const char *dir, const char *exe_path)
{
    if (dir == NULL || exe_path == NULL)
        return NULL;
    dev_platform *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return NULL;
    }
    PA_GUARD_GOTO(measure_file(exe_path, p->pcr0), fail);
    char hex[2 * PA_PCR_LEN + 1];
    pa_hex_encode(p->pcr0, PA_PCR_LEN, hex);
    /* Nitro's module ids look like i-<instance>-enc<enclave>; ours say dev */
    snprintf(p->module_id, sizeof p->module_id, "perfagg-dev-i-%.16s-enc", hex);

    PA_GUARD_GOTO(pa_devca_load_or_create(dir, &p->root, &p->inter, &p->inter_key), fail);
    PA_GUARD_GOTO(pa_attest_cert_der(p->root, &p->root_der, &p->root_der_len), fail);
    PA_GUARD_GOTO(pa_attest_cert_der(p->inter, &p->inter_der, &p->inter_der_len), fail);
    PA_ENSURE_GOTO(p->root_der_len <= PA_ATTEST_CERT_MAX && p->inter_der_len <= PA_ATTEST_CERT_MAX,
                   fail);
    p->root_pem = cert_pem(p->root);
    PA_ENSURE_GOTO(p->root_pem != NULL, fail);
    PA_GUARD_GOTO(renew_leaf(p, pa_now_ms()), fail);
    return pa_attest_platform_wrap(&dev_provider, p);
fail:
    ERR_clear_error();
    dev_free(p);
    return NULL;
}

int pa_attest_leaf_stale(int64_t issued_ms, int64_t now_ms)
{
    return now_ms < issued_ms || now_ms - issued_ms >= LEAF_RENEW_AFTER_MS;
}

/* Takes a reference to the current leaf (renewing it first when it is older
 * than an hour, or when the clock went backwards), so that signing happens
 * outside the lock while other threads may renew. */
static int current_leaf(dev_platform *p, int64_t now_ms, EVP_PKEY **key, uint8_t **der,
                        size_t *der_len)
{
    int rc = -1;
    if (pthread_mutex_lock(&p->lock) != 0)
        return -1;
    if (pa_attest_leaf_stale(p->leaf_issued_ms, now_ms))
        PA_GUARD_GOTO(renew_leaf(p, now_ms), cleanup);
    *der = OPENSSL_memdup(p->leaf_der, p->leaf_der_len);
    PA_ENSURE_GOTO(*der != NULL, cleanup);
    PA_ENSURE_GOTO(EVP_PKEY_up_ref(p->leaf_key) == 1, cleanup);
    *key = p->leaf_key;
    *der_len = p->leaf_der_len;
    rc = 0;
cleanup:
    if (rc != 0) {
        OPENSSL_free(*der);
        *der = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static int dev_document(void *impl, const uint8_t *public_key, size_t pk_len,
                        const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                        size_t nonce_len, pa_buf *out)
{
    int rc = -1;
    dev_platform *p = impl;
    EVP_PKEY *leaf_key = NULL;
    uint8_t *leaf_der = NULL;
    size_t leaf_der_len = 0;
    pa_buf payload;
    static const uint8_t zero_pcr[PA_PCR_LEN] = {0};

    pa_buf_init(&payload, PA_ATTEST_DOC_MAX);
    int64_t now_ms = pa_now_ms();
    PA_GUARD_GOTO(current_leaf(p, now_ms, &leaf_key, &leaf_der, &leaf_der_len), cleanup);

    pa_attest_payload doc;
    memset(&doc, 0, sizeof doc);
    doc.module_id = (pa_bytes){(const uint8_t *)p->module_id, strlen(p->module_id)};
    doc.timestamp_ms = (uint64_t)now_ms;
    doc.pcrs[0] = (pa_bytes){p->pcr0, PA_PCR_LEN};
    for (size_t i = 1; i < DEV_PCR_COUNT; i++)
        doc.pcrs[i] = (pa_bytes){zero_pcr, PA_PCR_LEN};
    doc.certificate = (pa_bytes){leaf_der, leaf_der_len};
    doc.cabundle[0] = (pa_bytes){p->root_der, p->root_der_len};
    doc.cabundle[1] = (pa_bytes){p->inter_der, p->inter_der_len};
    doc.cabundle_len = 2;
    doc.public_key = (pa_bytes){public_key, pk_len};
    doc.user_data = (pa_bytes){user_data, ud_len};
    doc.nonce = (pa_bytes){nonce, nonce_len};

    PA_GUARD_GOTO(pa_attest_payload_encode(&doc, &payload), cleanup);
    PA_GUARD_GOTO(pa_cose_sign1(leaf_key, payload.data, payload.len, out), cleanup);
    PA_ENSURE_GOTO(out->len <= PA_ATTEST_DOC_MAX, cleanup);
    rc = 0;
cleanup:
    if (rc != 0) {
        pa_buf_reset(out);
        ERR_clear_error();
    }
    EVP_PKEY_free(leaf_key);
    OPENSSL_free(leaf_der);
    pa_buf_free(&payload);
    return rc;
}
