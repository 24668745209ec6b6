/* The decrypted credentials (enclave only): what an opened envelope holds.
 * A host or client-library source including this header does not compile. */
#ifndef PA_CREDENTIALS_H
#define PA_CREDENTIALS_H

#include "enclave_only.h"

#include <stddef.h>

#include "buf.h"
#include "envelope_format.h"
#include "result.h"

#define PA_ACCOUNT_SALT_LEN 32

/* Every string is wiped on free. */
typedef struct {
    char *exchange;
    char *api_key;
    char *api_secret;
    char *passphrase;   /* NULL when absent */
    char *account_type; /* "spot" (default) or "usdm" */
    char **symbols;     /* NULL when absent */
    size_t nsymbols;
    int sandbox;
    /* accountSalt: the key of account_id (docs/PROTOCOL.md). Whoever holds
     * it can tell which account a result is for, so it is kept as a secret. */
    unsigned char account_salt[PA_ACCOUNT_SALT_LEN];
    int has_account_salt;
    int disclose_uid; /* discloseUid: put the account's uid itself in the payload */
} pa_credentials;

/* Parses the plaintext JSON object; fails when its exchange differs from
 * metadata_exchange, a required field is missing, a field has the wrong type
 * or an unknown field is present. */
PA_MUST_USE int pa_credentials_parse(const pa_buf *plaintext, const char *metadata_exchange,
                                     pa_credentials *out);
/* The same for an envelope whose metadata names an enclave-made API key
 * (enclave_key_id): apiSecret must be absent, and out->api_secret stays NULL
 * until the enclave fills it from the sealed key (src/enclave/keygen.h). */
PA_MUST_USE int pa_credentials_parse_enclave_key(const pa_buf *plaintext,
                                                 const char *metadata_exchange,
                                                 pa_credentials *out);
void pa_credentials_free(pa_credentials *c);

#endif
