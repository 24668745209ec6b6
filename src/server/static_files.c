#include "static_files.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec.h"

#define MANIFEST_MAX (64u << 10)
#define SHA384_LEN 48

typedef struct {
    const char *ext;
    const char *type;
} ext_type;

/* The only kinds of file the bundle holds; anything else in a manifest is a
 * build mistake, refused rather than served as something a browser might
 * sniff into script. */
static const ext_type types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".txt", "text/plain; charset=utf-8"},
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *type_of(const char *file)
{
    size_t n = strlen(file);
    for (size_t i = 0; i < PA_ARRAY_LEN(types); i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(file + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

/* A relative name inside the bundle: segments of [A-Za-z0-9._-], none empty
 * or starting with a dot (so no "..", no hidden files, no absolute path). */
static int safe_file_name(const char *f)
{
    if (f[0] == '\0' || strlen(f) > 128)
        return 0;
    int seg_start = 1;
    for (const char *p = f; *p != '\0'; p++) {
        char c = *p;
        if (c == '/') {
            if (seg_start)
                return 0;
            seg_start = 1;
            continue;
        }
        if (seg_start && c == '.')
            return 0;
        seg_start = 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return !seg_start;
}

/* A request path as libmicrohttpd hands it over: "/" or "/seg[/seg...]". */
static int safe_url_path(const char *p)
{
    if (p[0] != '/')
        return 0;
    return p[1] == '\0' || safe_file_name(p + 1);
}

/* Header values go out verbatim: printable ASCII only (no CR/LF). */
static int header_safe(const char *v)
{
    if (v[0] == '\0' || strlen(v) > 2048)
        return 0;
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
        if (*p < 0x20 || *p > 0x7e)
            return 0;
    return 1;
}

static int read_file(const char *path, unsigned char **out, size_t *len, size_t cap)
{
    *out = NULL;
    *len = 0;
    int rc = -1;
    unsigned char *data = NULL;
    FILE *f = fopen(path, "rb");
    PA_ENSURE(f != NULL);
    struct stat st;
    PA_ENSURE_GOTO(fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode), cleanup);
    PA_ENSURE_GOTO(st.st_size >= 0 && (size_t)st.st_size <= cap, cleanup);
    size_t n = (size_t)st.st_size;
    data = malloc(n > 0 ? n : 1);
    PA_ENSURE_GOTO(data != NULL, cleanup);
    PA_ENSURE_GOTO(fread(data, 1, n, f) == n && fgetc(f) == EOF, cleanup);
    *out = data;
    *len = n;
    data = NULL;
    rc = 0;
cleanup:
    free(data);
    fclose(f);
    return rc;
}

static int sha384_b64(const unsigned char *data, size_t len, char **out)
{
    unsigned char md[SHA384_LEN];
    unsigned int mdlen = 0;
    PA_ENSURE(EVP_Digest(data, len, md, &mdlen, EVP_sha384(), NULL) == 1 && mdlen == SHA384_LEN);
    *out = pa_b64_encode(md, sizeof md);
    return *out != NULL ? 0 : -1;
}

static int load_entry(pa_static *s, const char *dir, json_t *e, size_t i, char *err, size_t errlen)
{
    const char *path = json_string_value(json_object_get(e, "path"));
    const char *file = json_string_value(json_object_get(e, "file"));
    const char *sha = json_string_value(json_object_get(e, "sha384"));
    json_t *csp_j = json_object_get(e, "csp");
    if (!json_is_object(e) || path == NULL || file == NULL || sha == NULL ||
        (csp_j != NULL && !json_is_string(csp_j))) {
        set_err(err, errlen, "manifest entry %zu: path, file and sha384 are required strings", i);
        return -1;
    }
    if (!safe_url_path(path) || !safe_file_name(file)) {
        set_err(err, errlen, "manifest entry %zu: unsafe path or file name", i);
        return -1;
    }
    const char *type = type_of(file);
    if (type == NULL) {
        set_err(err, errlen, "manifest entry %zu (%s): not a served file type", i, file);
        return -1;
    }
    int html = strcmp(type, types[0].type) == 0;
    const char *csp = json_string_value(csp_j);
    if ((html && (csp == NULL || !header_safe(csp))) || (!html && csp != NULL)) {
        set_err(err, errlen, "manifest entry %zu (%s): an HTML file needs a printable csp, others none",
                i, file);
        return -1;
    }
    if (pa_static_find(s, path) != NULL) {
        set_err(err, errlen, "manifest entry %zu: path %s named twice", i, path);
        return -1;
    }

    pa_static_file *f = &s->files[s->n];
    memset(f, 0, sizeof *f);
    char full[4096];
    int w = snprintf(full, sizeof full, "%s/%s", dir, file);
    char *got = NULL;
    int rc = -1;
    if (w < 0 || (size_t)w >= sizeof full || read_file(full, &f->data, &f->len, PA_STATIC_MAX_FILE) != 0) {
        set_err(err, errlen, "cannot read %s/%s (missing, not a regular file, or over %u bytes)", dir,
                file, PA_STATIC_MAX_FILE);
        goto cleanup;
    }
    if (sha384_b64(f->data, f->len, &got) != 0) {
        set_err(err, errlen, "out of memory");
        goto cleanup;
    }
    if (strcmp(got, sha) != 0) {
        set_err(err, errlen, "%s/%s does not match its SHA-384 in the manifest (rebuild the bundle)",
                dir, file);
        goto cleanup;
    }
    size_t elen = strlen(got) + 10;
    f->etag = malloc(elen);
    f->path = strdup(path);
    f->csp = csp != NULL ? strdup(csp) : NULL;
    if (f->etag == NULL || f->path == NULL || (csp != NULL && f->csp == NULL)) {
        set_err(err, errlen, "out of memory");
        goto cleanup;
    }
    snprintf(f->etag, elen, "\"sha384-%s\"", got);
    f->content_type = type;
    s->n++;
    rc = 0;
cleanup:
    free(got);
    if (rc != 0) {
        free(f->data);
        free(f->etag);
        free(f->path);
        free(f->csp);
        memset(f, 0, sizeof *f);
    }
    return rc;
}

int pa_static_load(pa_static *s, const char *dir, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int rc = -1;
    unsigned char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    char path[4096];
    int w = snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (w < 0 || (size_t)w >= sizeof path || read_file(path, &text, &len, MANIFEST_MAX) != 0) {
        set_err(err, errlen, "cannot read %s/manifest.json", dir);
        goto cleanup;
    }
    json_error_t je;
    root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *files = json_object_get(root, "files");
    json_t *version = json_object_get(root, "version");
    if (root == NULL || !json_is_integer(version) || json_integer_value(version) != 1 ||
        !json_is_array(files) || json_array_size(files) == 0 ||
        json_array_size(files) > PA_STATIC_MAX_FILES) {
        set_err(err, errlen, "%s/manifest.json: not {version: 1, files: [1..%d entries]}", dir,
                PA_STATIC_MAX_FILES);
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(files); i++)
        PA_GUARD_GOTO(load_entry(s, dir, json_array_get(files, i), i, err, errlen), cleanup);
    rc = 0;
cleanup:
    json_decref(root);
    free(text);
    if (rc != 0)
        pa_static_free(s);
    return rc;
}

const pa_static_file *pa_static_find(const pa_static *s, const char *path)
{
    if (s == NULL || path == NULL)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return &s->files[i];
    return NULL;
}

int pa_static_etag_matches(const char *inm, const char *etag)
{
    if (inm == NULL || etag == NULL)
        return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        /* a weak validator compares the same for a GET (RFC 9110 13.1.2) */
        if (end - start >= 2 && start[0] == 'W' && start[1] == '/')
            start += 2;
        size_t n = (size_t)(end - start);
        if ((n == 1 && *start == '*') || (n == elen && memcmp(start, etag, n) == 0))
            return 1;
    }
    return 0;
}

void pa_static_free(pa_static *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i].path);
        free(s->files[i].data);
        free(s->files[i].csp);
        free(s->files[i].etag);
    }
    memset(s, 0, sizeof *s);
}
