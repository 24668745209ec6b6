/* libFuzzer driver for the RFC 3339 parser (src/common/timeutil.h), which
 * reads every time a client sends (not_after, from, to). Beyond "no crash":
 *  - parse -> format -> parse gives the same milliseconds, and the formatted
 *    text is the 24-character toISOString form: whatever instant the parser
 *    accepts, the service can print and read back unchanged (this found
 *    local dates in year 0000 or 9999 whose offset moves them out of range:
 *    corpus/rfc3339/regress_*);
 *  - the first 8 input bytes, as a time in the supported range (years
 *    0000-9999 UTC), format -> parse back to themselves. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MS_MIN PA_TIME_MIN_MS
#define MS_MAX PA_TIME_MAX_MS

static void check_formatted(int64_t ms)
{
    char out[PA_TIME_STR_LEN];
    pa_time_format(ms, out);
    int64_t back = 0;
    if (strlen(out) != 24 || pa_time_parse(out, &back) != 0 || back != ms)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 128)
        return 0;
    char s[129];
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ms = 0;
    if (pa_time_parse(s, &ms) == 0)
        check_formatted(ms);

    if (size >= 8) {
        uint64_t u;
        memcpy(&u, data, sizeof u);
        /* into [MS_MIN, MS_MAX] without overflow */
        int64_t t = MS_MIN + (int64_t)(u % (uint64_t)(MS_MAX - MS_MIN + 1));
        check_formatted(t);
    }
    return 0;
}
