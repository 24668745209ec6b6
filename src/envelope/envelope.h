/* Credential envelope, version 1 (docs/PROTOCOL.md, "Credential envelope").
 *
 *   shared = X25519(ephemeral secret, enclave_pub)   (all-zero rejected)
 *   key    = HKDF-SHA256(shared, salt = ephemeral_pub || enclave_pub,
 *                        info = "perfagg/v1/credentials", L = 32)
 *   ciphertext || tag = AES-256-GCM(key, nonce(12), plaintext, AAD = JCS(metadata))
 *
 * This header is split by trust: the format functions (parse/serialise/shape
 * checks) are linked by everyone, sealing only by the client, opening only by
 * the enclave. The server links neither seal nor open. */
#ifndef PA_ENVELOPE_H
#define PA_ENVELOPE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define PA_X25519_LEN 32
#define PA_ED25519_LEN 32
#define PA_SIGNATURE_LEN 64
#define PA_NONCE_LEN 12
#define PA_TAG_LEN 16
#define PA_KEY_LEN 32
#define PA_CIPHERTEXT_MAX 8192
#define PA_ENVELOPE_INFO "perfagg/v1/credentials"
#define PA_LABEL_MAX 64

/* What pa_credentials_parse accepts inside the plaintext. The client checks
 * the same limits before sealing, so it never seals what the enclave would
 * refuse (a refusal there is only ever reported as decryption_failed). */
#define PA_SYMBOL_MIN_LEN 2 /* a symbol is [A-Z0-9]{2,20} */
#define PA_SYMBOL_MAX_LEN 20
#define PA_SYMBOLS_MAX 100 /* 1..100 symbols, no repeats */
#define PA_SECRET_MAX 512  /* exchange, apiKey, apiSecret, passphrase: 1..512 bytes */

typedef struct {
    uint8_t ephemeral_pub[PA_X25519_LEN];
    uint8_t nonce[PA_NONCE_LEN];
    uint8_t tag[PA_TAG_LEN];
    uint8_t *ciphertext; /* 1..PA_CIPHERTEXT_MAX bytes, owned */
    size_t ciphertext_len;
    json_t *metadata; /* owned reference */
} pa_envelope;

/* ---- format (everyone) ---------------------------------------------------- */

/* Parses {ephemeral_pub, nonce, ciphertext, tag, metadata} with exactly these
 * keys, strict base64 and exact decoded lengths. metadata must be an object
 * with only exchange (string), label (string, 1..64 chars), ttl (integer),
 * not_after (RFC 3339 string); exchange and label required. Policy (which
 * exchanges, ttl bounds) is the caller's. Fills err (a static string naming
 * the problem) on failure. */
PA_MUST_USE int pa_envelope_parse(const json_t *body, pa_envelope *out, const char **err);
/* The metadata rules pa_envelope_parse applies, on their own: for callers
 * that build metadata themselves (the client checks before sealing, so it
 * never produces an envelope the server would refuse). */
PA_MUST_USE int pa_envelope_check_metadata(const json_t *metadata, const char **err);
/* The submit-body JSON object of an envelope (new reference). */
json_t *pa_envelope_to_json(const pa_envelope *env);
void pa_envelope_free(pa_envelope *env);

/* True when s[0..n) is an exchange symbol as the credentials allow it:
 * [A-Z0-9]{PA_SYMBOL_MIN_LEN,PA_SYMBOL_MAX_LEN}. One rule for the client
 * (refuse before sealing) and the enclave (refuse after opening). */
int pa_symbol_ok(const char *s, size_t n);

/* ---- seal (client only) --------------------------------------------------- */

/* Seals plaintext to enclave_pub with a fresh ephemeral key and nonce. */
PA_MUST_USE int pa_envelope_seal(const uint8_t enclave_pub[PA_X25519_LEN], const json_t *metadata,
                                 const uint8_t *plaintext, size_t len, pa_envelope *out);
/* Deterministic variant for test vectors: caller supplies the ephemeral secret
 * (raw X25519 private key) and the nonce. */
PA_MUST_USE int pa_envelope_seal_with(const uint8_t eph_secret[PA_X25519_LEN],
                                      const uint8_t nonce[PA_NONCE_LEN],
                                      const uint8_t enclave_pub[PA_X25519_LEN],
                                      const json_t *metadata, const uint8_t *plaintext,
                                      size_t len, pa_envelope *out);

/* ---- open (enclave only) -------------------------------------------------- */

/* Opens env with the enclave's X25519 key. Every failure is the same -1 (the
 * API reports all of them as decryption_failed). Also fails when
 * metadata.not_after is present and before now_ms. plaintext_out is a pa_buf
 * the caller must pa_buf_free (it wipes); the call (re)initialises it, so pass
 * an empty one, and on failure it is left empty. */
PA_MUST_USE int pa_envelope_open(EVP_PKEY *enclave_key, const pa_envelope *env, int64_t now_ms,
                                 pa_buf *plaintext_out);

/* Decrypted credentials (enclave only). Every string is wiped on free. */
typedef struct {
    char *exchange;
    char *api_key;
    char *api_secret;
    char *passphrase;   /* NULL when absent */
    char *account_type; /* "spot" (default) or "usdm" */
    char **symbols;     /* NULL when absent */
    size_t nsymbols;
    int sandbox;
} pa_credentials;

/* Parses the plaintext JSON object; fails when its exchange differs from
 * metadata_exchange, a required field is missing, a field has the wrong type
 * or an unknown field is present. */
PA_MUST_USE int pa_credentials_parse(const pa_buf *plaintext, const char *metadata_exchange,
                                     pa_credentials *out);
void pa_credentials_free(pa_credentials *c);

/* ---- keys and signatures (helpers around OpenSSL's raw-key API) ------------ */

EVP_PKEY *pa_x25519_generate(void);
EVP_PKEY *pa_ed25519_generate(void);
PA_MUST_USE int pa_raw_public_key(EVP_PKEY *key, uint8_t out[32]);
/* Ed25519 over msg; sig is 64 raw bytes. */
PA_MUST_USE int pa_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
                                uint8_t sig[PA_SIGNATURE_LEN]);
/* 0 when sig is a valid signature of msg under the raw public key pub. */
PA_MUST_USE int pa_ed25519_verify(const uint8_t pub[PA_ED25519_LEN], const uint8_t *msg,
                                  size_t len, const uint8_t sig[PA_SIGNATURE_LEN]);

#endif
