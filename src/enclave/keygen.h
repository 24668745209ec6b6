/* Enclave-made Ed25519 API keys (docs/PROTOCOL.md, "Enclave-made API
 * keys"): the keygen operation, and the use of a sealed key when an
 * envelope names one (metadata.enclave_key_id). The private key exists in
 * plaintext only inside these functions and the exchange transport that
 * signs with it; outside the enclave it exists only sealed (key_seal.h). */
#ifndef PA_KEYGEN_H
#define PA_KEYGEN_H

#include "enclave_only.h"

#include <jansson.h>

#include "credentials.h"
#include "enclave_ops.h"
#include "envelope_format.h"

/* The keygen op; req has passed the contract's keygen request shape. */
char *pa_keygen_op(pa_enclave *e, const json_t *req);

/* 1 when the envelope's metadata names an enclave-made key. */
int pa_keygen_named(const pa_envelope *env);

/* For open and aggregate, after the envelope opened: when it names an
 * enclave-made key, opens req's sealed_key (for this instance, this key_id
 * and this exchange only) and sets creds->api_secret to the key as a PKCS#8
 * PEM text in the secure heap, which the exchange transport signs with
 * (Ed25519, as for a trader's own Ed25519 key) and pa_credentials_free
 * wipes. NULL to go on, or the error answer (enclave_key_lost after a
 * restart, sealed_key_invalid, invalid_request). */
char *pa_keygen_attach(pa_enclave *e, const json_t *req, const pa_envelope *env,
                       pa_credentials *creds);

#endif
