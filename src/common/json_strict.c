#include "json_strict.h"

#include <string.h>

json_t *pa_json_parse(const char *data, size_t len, size_t cap)
{
    if (data == NULL || len > cap)
        return NULL;
    json_error_t err;
    return json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
}

int pa_json_only_keys(const json_t *obj, const char *const *allowed)
{
    if (!json_is_object(obj))
        return 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        (void)v;
        int found = 0;
        for (const char *const *a = allowed; *a != NULL; a++)
            if (strcmp(*a, key) == 0)
                found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

const char *pa_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
