/* Strict JSON input: a size cap before parsing, duplicate keys rejected,
 * unknown fields rejected, types checked. jansson itself rejects invalid
 * UTF-8, lone surrogates in \u escapes and NUL characters in strings. */
#ifndef PA_JSON_STRICT_H
#define PA_JSON_STRICT_H

#include <jansson.h>
#include <stddef.h>

#include "result.h"

/* NULL when len > cap, the text is not one JSON value, or a key repeats. */
json_t *pa_json_parse(const char *data, size_t len, size_t cap);

/* True when obj is an object and every key is in the NULL-terminated list. */
int pa_json_only_keys(const json_t *obj, const char *const *allowed);

/* The string value of key, or NULL when absent or not a string. */
const char *pa_json_str(const json_t *obj, const char *key);

#endif
