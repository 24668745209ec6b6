/* Opening a credential envelope (enclave only). A host or client-library
 * source including this header does not compile (PA_TRUST_HOST,
 * PA_TRUST_CLIENT: docs/DEVELOPING.md, "Trust split"). */
#ifndef PA_ENVELOPE_OPEN_H
#define PA_ENVELOPE_OPEN_H

#include "enclave_only.h"

#include <openssl/evp.h>
#include <stdint.h>

#include "buf.h"
#include "envelope_format.h"
#include "result.h"

/* Opens env with the enclave's X25519 key. Every failure is the same -1 (the
 * API reports all of them as decryption_failed). Also fails when
 * metadata.not_after is present and before now_ms. plaintext_out is a pa_buf
 * the caller must pa_buf_free (it wipes); the call (re)initialises it, so pass
 * an empty one, and on failure it is left empty. */
PA_MUST_USE int pa_envelope_open(EVP_PKEY *enclave_key, const pa_envelope *env, int64_t now_ms,
                                 pa_buf *plaintext_out);

#endif
