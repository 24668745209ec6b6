/* Credential envelope, version 1 (docs/PROTOCOL.md, "Credential envelope"):
 * the wire format every component shares.
 *
 *   shared = X25519(ephemeral secret, enclave_pub)   (all-zero rejected)
 *   key    = HKDF-SHA256(shared, salt = ephemeral_pub || enclave_pub,
 *                        info = "perfagg/v1/credentials", L = 32)
 *   ciphertext || tag = AES-256-GCM(key, nonce(12), plaintext, AAD = JCS(metadata))
 *
 * The envelope's headers are split by trust, and the compiler enforces it
 * (docs/DEVELOPING.md, "Trust split"):
 *   envelope_format.h  everyone: format, shape checks, signature verification
 *   envelope_seal.h    the client: sealing (never the host)
 *   envelope_open.h    the enclave: opening (never the host or the client library)
 *   credentials.h      the enclave: the decrypted credentials
 *   envelope_keys.h    the enclave: key generation and signing
 * The server may include this header only. */
#ifndef PA_ENVELOPE_FORMAT_H
#define PA_ENVELOPE_FORMAT_H

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
#define PA_LABEL_MAX 64    /* metadata.label, code points */
#define PA_EXCHANGE_MAX 32 /* metadata.exchange, code points */

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

/* The raw 32-byte public key of an X25519 or Ed25519 key. */
PA_MUST_USE int pa_raw_public_key(EVP_PKEY *key, uint8_t out[32]);
/* 0 when sig is a valid Ed25519 signature of msg under the raw public key
 * pub: anyone may verify (the client checks results with it). */
PA_MUST_USE int pa_ed25519_verify(const uint8_t pub[PA_ED25519_LEN], const uint8_t *msg,
                                  size_t len, const uint8_t sig[PA_SIGNATURE_LEN]);

#endif
