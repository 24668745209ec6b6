#include "cors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Validates one origin in place (already lowercased) and returns the canonical
 * form a browser would send: the default port of the scheme is dropped
 * because browsers never include it in Origin. */
static char *canonical_origin(const char *item, size_t len, char *err, size_t errlen)
{
    char tmp[PA_CORS_ORIGIN_MAX + 1] = {0};
    if (len == 0 || len > PA_CORS_ORIGIN_MAX) {
        snprintf(err, errlen, "ALLOWED_ORIGINS: an origin is empty or longer than %d characters",
                 PA_CORS_ORIGIN_MAX);
        return NULL;
    }
    for (size_t i = 0; i < len; i++)
        tmp[i] = (char)tolower((unsigned char)item[i]);
    tmp[len] = '\0';

    size_t scheme_len;
    int default_port;
    if (strncmp(tmp, "https://", 8) == 0) {
        scheme_len = 8;
        default_port = 443;
    } else if (strncmp(tmp, "http://", 7) == 0) {
        scheme_len = 7;
        default_port = 80;
    } else {
        snprintf(err, errlen,
                 "ALLOWED_ORIGINS: \"%.64s\" is not an http:// or https:// origin (wildcards "
                 "are not supported)",
                 tmp);
        return NULL;
    }
    char *host = tmp + scheme_len;
    char *end = host;
    if (*end == '[') { /* IPv6 literal */
        end++;
        while (isxdigit((unsigned char)*end) || *end == ':' || *end == '.')
            end++;
        if (*end != ']' || end == host + 1)
            goto bad;
        end++;
    } else {
        while (host_char_ok(*end))
            end++;
        if (end == host || *host == '.' || *host == '-')
            goto bad;
    }
    char *host_end = end;
    long port = -1;
    if (*end == ':') {
        end++;
        char *digits = end;
        while (isdigit((unsigned char)*end))
            end++;
        if (end == digits || end - digits > 5 || *digits == '0')
            goto bad;
        port = strtol(digits, NULL, 10);
        if (port < 1 || port > 65535)
            goto bad;
    }
    if (*end != '\0') /* path, query, fragment, userinfo or a trailing slash */
        goto bad;
    if (port == default_port)
        *host_end = '\0';
    return strdup(tmp);

bad:
    snprintf(err, errlen,
             "ALLOWED_ORIGINS: \"%.64s\" is not an origin of the form scheme://host[:port] "
             "(no path or trailing slash)",
             tmp);
    return NULL;
}

int pa_cors_parse(const char *list, pa_cors *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (list == NULL)
        return 0;
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *stop = comma != NULL ? comma : p + strlen(p);
        const char *a = p;
        const char *b = stop;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a < b) {
            if (out->n == PA_CORS_MAX_ORIGINS) {
                snprintf(err, errlen, "ALLOWED_ORIGINS: more than %d origins",
                         PA_CORS_MAX_ORIGINS);
                goto fail;
            }
            if (out->origins == NULL) {
                out->origins = calloc(PA_CORS_MAX_ORIGINS, sizeof *out->origins);
                if (out->origins == NULL) {
                    snprintf(err, errlen, "out of memory");
                    goto fail;
                }
            }
            char *o = canonical_origin(a, (size_t)(b - a), err, errlen);
            if (o == NULL)
                goto fail;
            out->origins[out->n++] = o;
        } else if (comma != NULL || p != list) {
            /* "a,,b" or a trailing comma is almost certainly a typo */
            snprintf(err, errlen, "ALLOWED_ORIGINS: empty item in the list");
            goto fail;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
        if (*p == '\0') {
            snprintf(err, errlen, "ALLOWED_ORIGINS: empty item in the list");
            goto fail;
        }
    }
    return 0;

fail:
    pa_cors_free(out);
    return -1;
}

void pa_cors_free(pa_cors *c)
{
    for (size_t i = 0; c->origins != NULL && i < c->n; i++)
        free(c->origins[i]);
    free(c->origins);
    c->origins = NULL;
    c->n = 0;
}

int pa_cors_allowed(const pa_cors *c, const char *origin)
{
    if (c == NULL || origin == NULL)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->origins[i], origin) == 0)
            return 1;
    return 0;
}

pa_preflight pa_cors_preflight(const pa_cors *c, const char *method, const char *origin,
                               const char *request_method)
{
    if (method == NULL || strcmp(method, "OPTIONS") != 0 || request_method == NULL)
        return PA_PREFLIGHT_NONE;
    return pa_cors_allowed(c, origin) ? PA_PREFLIGHT_OK : PA_PREFLIGHT_FORBIDDEN;
}
