/* The enclave's request handlers: the five operations of docs/IPC.md and
 * nothing else. No operation signs or decrypts caller-chosen data. */
#ifndef PA_ENCLAVE_OPS_H
#define PA_ENCLAVE_OPS_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "attest_produce.h"
#include "connector.h"
#include "egress.h"

typedef struct {
    EVP_PKEY *envelope_key; /* X25519: opens credential envelopes */
    EVP_PKEY *signing_key;  /* Ed25519: signs aggregate payloads only */
    uint8_t enclave_pub[32];
    uint8_t signing_pub[32];
    char *enclave_pub_b64;
    char *signing_pub_b64;
    char image_hash[2 * PA_PCR_LEN + 1];
    pa_attest_platform *platform;
    int dev_platform;              /* attestation chains to a development root */
    const char *binance_base_url;  /* no trailing slash */
    const char *binance_futures_base_url; /* accountType "usdm"; NULL: binance_base_url */
    int development_build;         /* perfagg-enclave (overridable), not -production */
    long exchange_timeout_ms;
    int require_read_only_keys;    /* REQUIRE_READ_ONLY_KEYS (enclave_config.c) */
    unsigned weight_budget;        /* 0: the venue's production budget (development may override) */
    const pa_egress *egress;       /* transport policy (enclave_config.c); NULL: development defaults */
} pa_enclave;

/* Handles one request frame; returns the response frame (malloc'd JSON text,
 * never NULL unless out of memory). */
char *pa_enclave_handle(pa_enclave *e, const char *req, size_t len);

/* A fresh attestation document with public_key = the enclave key, the
 * given user_data binding (attest_common.h: the key binding, or keygen's)
 * and nonce (may be NULL), as the contract's ATTESTATION object {quote,
 * enclave_pubkey, signing_pubkey, image_hash}; NULL on failure. */
json_t *pa_enclave_attestation(pa_enclave *e, const uint8_t binding[32], const uint8_t *nonce,
                               size_t nonce_len);

/* What an aggregate job adds to a run (enclave_jobs.c): minutes of waiting instead
 * of PA_EXCHANGE_MAX_WAIT_MS, and progress reports. */
typedef struct {
    long max_wait_ms;
    pa_exchange_progress_fn progress;
    void *progress_ud;
} pa_aggregate_hooks;

/* The aggregate operation on a request that passed the contract's
 * aggregate shape: the answer frame (signed result or refusal). hooks may
 * be NULL (the synchronous op). */
char *pa_enclave_aggregate(pa_enclave *e, const json_t *req, const pa_aggregate_hooks *hooks);

#endif
