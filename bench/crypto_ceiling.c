/* crypto_ceiling: how many of the enclave's crypto operations one core does
 * per second, in-process with OpenSSL, for `make bench` (scripts/bench.sh).
 *
 *   envelope_open  the project's own pa_envelope_open (X25519 + HKDF-SHA256 +
 *                  AES-256-GCM with the JCS metadata as AAD) on an envelope
 *                  sealed once by pa_envelope_seal
 *   ed25519_sign   what signs every aggregates payload (1 KiB message)
 *   p384_sign      ECDSA P-384 with SHA-384, what signs every attestation
 *                  document (4 KiB message, about a document's size)
 *
 * Usage: crypto_ceiling [SECONDS_PER_OPERATION]  (default 2; 0.2 .. 60)
 * Prints one JSON object: {"seconds": s, "envelope_open_per_s": n, ...}.
 * Single-threaded on purpose: the figure is per core. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "envelope_format.h"
#include "envelope_keys.h"
#include "envelope_open.h"
#include "envelope_seal.h"
#include "timeutil.h"

typedef int (*op_fn)(void *ctx);

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs op until `seconds` have passed (checking the clock every 16 calls, so
 * the clock is not what is measured); operations per second, or -1 when an
 * operation fails (a ceiling from failing calls would be meaningless). */
static double rate(op_fn op, void *ctx, double seconds)
{
    double start = mono_s(), now = start;
    long n = 0;
    while (now - start < seconds) {
        for (int i = 0; i < 16; i++, n++)
            if (op(ctx) != 0)
                return -1;
        now = mono_s();
    }
    return (double)n / (now - start);
}

typedef struct {
    EVP_PKEY *enclave_key;
    pa_envelope env;
} open_ctx;

static int op_open(void *p)
{
    open_ctx *c = p;
    pa_buf plain;
    pa_buf_init(&plain, PA_CIPHERTEXT_MAX);
    int rc = pa_envelope_open(c->enclave_key, &c->env, pa_now_ms(), &plain);
    pa_buf_free(&plain);
    return rc;
}

typedef struct {
    EVP_PKEY *key;
    const EVP_MD *md; /* NULL for Ed25519 (one-shot, no digest) */
    const uint8_t *msg;
    size_t len;
} sign_ctx;

static int op_sign(void *p)
{
    sign_ctx *c = p;
    uint8_t sig[160];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, c->md, NULL, c->key) == 1 &&
             EVP_DigestSign(md, sig, &siglen, c->msg, c->len) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    double seconds = argc > 1 ? strtod(argv[1], &end) : 2.0;
    if ((argc > 1 && (end == argv[1] || *end != '\0')) || !(seconds >= 0.2 && seconds <= 60)) {
        fprintf(stderr, "usage: crypto_ceiling [SECONDS_PER_OPERATION (0.2..60)]\n");
        return 2;
    }
    int rc = 1;
    static uint8_t msg[4096];
    memset(msg, 'x', sizeof msg);
    open_ctx oc = {0};
    sign_ctx ed = {0}, ec = {0};
    json_t *meta = NULL;

    /* An envelope like the client's: credentials JSON sealed with metadata
     * {exchange, label, not_after} as the AAD. */
    oc.enclave_key = pa_x25519_generate();
    uint8_t pub[PA_X25519_LEN];
    static const char plaintext[] =
        "{\"exchange\":\"binance\",\"apiKey\":\"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7"
        "Ju91duEh8A\",\"apiSecret\":\"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj"
        "0j\"}";
    meta = json_pack("{s:s, s:s, s:s}", "exchange", "binance", "label", "ceiling", "not_after",
                     "2099-01-01T00:00:00.000Z");
    if (oc.enclave_key == NULL || meta == NULL || pa_raw_public_key(oc.enclave_key, pub) != 0 ||
        pa_envelope_seal(pub, meta, (const uint8_t *)plaintext, strlen(plaintext), &oc.env) != 0) {
        fprintf(stderr, "crypto_ceiling: cannot seal the test envelope\n");
        goto cleanup;
    }

    ed.key = pa_ed25519_generate();
    ed.msg = msg;
    ed.len = 1024;
    ec.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ec.md = EVP_sha384();
    ec.msg = msg;
    ec.len = sizeof msg;
    if (ed.key == NULL || ec.key == NULL) {
        fprintf(stderr, "crypto_ceiling: cannot make the signing keys\n");
        goto cleanup;
    }

    double open_s = rate(op_open, &oc, seconds);
    double ed_s = rate(op_sign, &ed, seconds);
    double ec_s = rate(op_sign, &ec, seconds);
    if (open_s < 0 || ed_s < 0 || ec_s < 0) {
        fprintf(stderr, "crypto_ceiling: an operation failed\n");
        goto cleanup;
    }
    printf("{\"seconds_per_operation\": %.2f, \"envelope_open_per_s\": %.1f, "
           "\"ed25519_sign_per_s\": %.1f, \"p384_sign_per_s\": %.1f}\n",
           seconds, open_s, ed_s, ec_s);
    rc = 0;
cleanup:
    pa_envelope_free(&oc.env);
    json_decref(meta);
    EVP_PKEY_free(oc.enclave_key);
    EVP_PKEY_free(ed.key);
    EVP_PKEY_free(ec.key);
    return rc;
}
