/* RFC 8785 JSON Canonicalization Scheme over jansson values.
 * Differences from json_dumps(JSON_SORT_KEYS) that matter for signatures:
 * keys sorted by UTF-16 code units, numbers in ECMAScript Number::toString
 * form (shortest round trip: 1e-7, 1e+21, -0 -> 0), integers treated as IEEE
 * doubles, and RFC 8785's minimal string escaping. */
#ifndef PA_JCS_H
#define PA_JCS_H

#include <jansson.h>

#include "buf.h"
#include "result.h"

#define PA_JCS_NUMBER_MAX 32

/* Appends the canonical form of v to out. Fails on a non-finite number or a
 * string/key that is not valid UTF-8 (jansson values built by hand could be). */
PA_MUST_USE int pa_jcs_append(const json_t *v, pa_buf *out);

/* The canonical form as a malloc'd NUL-terminated string, or NULL. */
char *pa_jcs_dumps(const json_t *v);

/* ECMAScript Number::toString of a finite double. Fails on NaN/Inf. */
PA_MUST_USE int pa_jcs_format_number(double d, char out[PA_JCS_NUMBER_MAX]);

#endif
