/* Random (version 4) UUIDs, the only identifiers perfagg hands out. */
#ifndef PA_UUID_H
#define PA_UUID_H

#include "result.h"

#define PA_UUID_STR_LEN 37 /* 36 chars + NUL */

/* Lowercase canonical form from OpenSSL's CSPRNG. */
PA_MUST_USE int pa_uuid_v4(char out[PA_UUID_STR_LEN]);
/* True for the canonical 8-4-4-4-12 hex form of a version 4, RFC 4122 variant
 * UUID (either case). Anything else is "malformed" for the API. */
int pa_uuid_valid(const char *s);

#endif
