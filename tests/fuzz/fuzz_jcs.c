/* libFuzzer driver for JCS over untrusted JSON: whatever pa_json_parse
 * accepts must canonicalize (the parser only lets valid UTF-8 and finite
 * numbers through), and canonicalization must be idempotent: parsing the
 * canonical text and canonicalizing again gives the same bytes.
 * Run with `make fuzz` (scripts/fuzz.sh jcs); `make test` replays the seeds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jcs.h"
#include "json_strict.h"

#define FUZZ_CAP ((size_t)64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = pa_json_parse((const char *)data, size, FUZZ_CAP);
    if (v == NULL)
        return 0;
    char *once = pa_jcs_dumps(v);
    json_decref(v);
    if (once == NULL)
        abort(); /* accepted input with no canonical form */
    /* Integers are read back as doubles: JCS prints a double such as 3.6e19
     * as "36000000000000000000", which jansson's integer type cannot hold. */
    json_error_t err;
    json_t *again = json_loadb(once, strlen(once),
                               JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
                               &err);
    if (again == NULL)
        abort(); /* canonical output that is not JSON */
    char *twice = pa_jcs_dumps(again);
    json_decref(again);
    if (twice == NULL || strcmp(once, twice) != 0)
        abort();
    free(twice);
    free(once);
    return 0;
}
