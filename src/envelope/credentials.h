/* The decrypted credentials (enclave only): what an opened envelope holds.
 * A host or client-library source including this header does not compile. */
#ifndef PA_CREDENTIALS_H
#define PA_CREDENTIALS_H

#include "enclave_only.h"

#include <stddef.h>

#include "buf.h"
#include "envelope_format.h"
#include "result.h"

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
} pa_credentials;

/* Parses the plaintext JSON object; fails when its exchange differs from
 * metadata_exchange, a required field is missing, a field has the wrong type
 * or an unknown field is present. */
PA_MUST_USE int pa_credentials_parse(const pa_buf *plaintext, const char *metadata_exchange,
                                     pa_credentials *out);
void pa_credentials_free(pa_credentials *c);

#endif
