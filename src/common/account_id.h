/* account_id (docs/PROTOCOL.md, "Whose account"): lowercase hex
 * HMAC-SHA256(key = the trader's 32-byte accountSalt, message = venue ":"
 * uid). The enclave computes it from the uid the exchange reports; a
 * verifier the trader gave the salt recomputes it (`perfagg account-id`).
 * Shared by both, so there is one definition. */
#ifndef PA_ACCOUNT_ID_H
#define PA_ACCOUNT_ID_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define PA_ACCOUNT_ID_SALT_LEN 32
#define PA_ACCOUNT_ID_HEX_LEN 64

PA_MUST_USE int pa_account_id(const uint8_t salt[PA_ACCOUNT_ID_SALT_LEN], const char *venue,
                              const char *uid, char out_hex[PA_ACCOUNT_ID_HEX_LEN + 1]);

#endif
