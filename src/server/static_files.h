/* The browser pages (web/, README "The browser pages"): a static bundle the
 * build writes to a directory with a manifest, read once at start-up and
 * served from memory at the exact paths the manifest names. Nothing is read
 * from disk per request, and no path outside the manifest is ever served
 * (no directory listing, no path mapping, no index files).
 *
 * manifest.json: {"version":1,"files":[{"path":"/","file":"index.html",
 * "sha384":"<base64>","csp":"..."}, ...]} — csp only for HTML. Each file's
 * SHA-384 must match the manifest, so a half-updated bundle refuses to load
 * instead of serving pages whose Subresource Integrity would fail. */
#ifndef PA_STATIC_FILES_H
#define PA_STATIC_FILES_H

#include <stddef.h>

#include "result.h"

#define PA_STATIC_MAX_FILES 32
#define PA_STATIC_MAX_FILE (4u << 20) /* per file */

typedef struct {
    char *path;               /* exact request path, e.g. "/verify" */
    unsigned char *data;      /* the file's bytes */
    size_t len;
    const char *content_type; /* static, from the file's extension */
    char *csp;                /* HTML: the page's Content-Security-Policy; else NULL */
    char *etag;               /* "\"sha384-<base64>\"" */
} pa_static_file;

typedef struct {
    pa_static_file files[PA_STATIC_MAX_FILES];
    size_t n;
} pa_static;

/* Reads dir/manifest.json and every file it names. On failure writes one
 * sentence to err and returns -1 (s is then empty). */
PA_MUST_USE int pa_static_load(pa_static *s, const char *dir, char *err, size_t errlen);
/* The file served at exactly this path, or NULL. */
const pa_static_file *pa_static_find(const pa_static *s, const char *path);
/* 1 when an If-None-Match header value names etag (or is "*"). */
int pa_static_etag_matches(const char *if_none_match, const char *etag);
void pa_static_free(pa_static *s);

#endif
