/* Sealing an enclave-made API key's private key to this enclave instance
 * (docs/PROTOCOL.md, "Enclave-made API keys").
 *
 *   seal_key = HKDF-SHA256(IKM = the instance's X25519 private key,
 *                          salt = sealed_to, info = "perfagg/v1/enclave-key-seal")
 *   sealed   = version(1) || sealed_to(32) || nonce(12) || ct(32) || tag(16)
 *   ct||tag  = AES-256-GCM(seal_key, nonce, Ed25519 seed,
 *                          AAD = "perfagg/v1/enclave-key" || version || sealed_to
 *                                || key_id(36) || exchange)
 *
 * sealed_to is the instance's X25519 public key (enclave_pubkey). The seal
 * key exists only while the instance's X25519 key does, which is only in
 * this process's memory: an enclave restart loses every sealed key, exactly
 * as it loses every credential envelope. The host stores the sealed bytes
 * and learns nothing from them. */
#ifndef PA_KEY_SEAL_H
#define PA_KEY_SEAL_H

#include "enclave_only.h"

#include <stdint.h>

#include <openssl/evp.h>

#include "attest_common.h"
#include "ipc_contract.h"
#include "result.h"

#define PA_SEALED_KEY_LEN PA_IPC_SEALED_KEY_LEN
#define PA_SEALED_KEY_VERSION 1
#define PA_ED25519_SEED_LEN 32

typedef enum {
    PA_KEY_SEAL_OK,
    PA_KEY_SEAL_LOST,    /* sealed to another instance's key (restarted enclave) */
    PA_KEY_SEAL_INVALID, /* malformed, tampered, or not for this key_id / exchange */
} pa_key_seal_status;

/* Seals seed under instance (an X25519 private key) for key_id and exchange. */
PA_MUST_USE int pa_key_seal(EVP_PKEY *instance, const char key_id[PA_ATTEST_KEY_ID_LEN],
                            const char *exchange, const uint8_t seed[PA_ED25519_SEED_LEN],
                            uint8_t out[PA_SEALED_KEY_LEN]);

/* Opens what pa_key_seal made, only for the same instance, key_id and
 * exchange; seed_out is wiped unless PA_KEY_SEAL_OK. */
pa_key_seal_status pa_key_unseal(EVP_PKEY *instance, const char key_id[PA_ATTEST_KEY_ID_LEN],
                                 const char *exchange, const uint8_t in[PA_SEALED_KEY_LEN],
                                 uint8_t seed_out[PA_ED25519_SEED_LEN]);

#endif
