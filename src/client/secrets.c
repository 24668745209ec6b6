/* Credentials come from files or standard input, never from argv (which any
 * local user can read in /proc). Every copy lives in a pa_buf, wiped on free. */
#include <string.h>
#include <unistd.h>

#include "client_internal.h"
#include "envelope_format.h"

#define PA_STDIN_MAX ((size_t)3 * (PA_CLIENT_SECRET_MAX + 2))

static const char *const field_names[] = {"apiKey", "apiSecret", "passphrase"};

/* Drops one trailing "\n" or "\r\n" from [*len]. */
static void strip_newline(const uint8_t *data, size_t *len)
{
    if (*len > 0 && data[*len - 1] == '\n') {
        (*len)--;
        if (*len > 0 && data[*len - 1] == '\r')
            (*len)--;
    }
}

/* Copies one value into out after the checks every value gets. */
static int take_value(const uint8_t *data, size_t len, const char *field, const char *source,
                      pa_buf *out, pa_client_error *err)
{
    if (len == 0) {
        pa_client_set_error(err, 0, "invalid_input", "%s (%s) is empty", field, source);
        return -1;
    }
    /* The enclave's limit (pa_credentials_parse): anything longer would be
     * sealed only to be refused as decryption_failed. */
    if (len > PA_SECRET_MAX) {
        pa_client_set_error(err, 0, "invalid_input",
                            "%s (%s) is longer than %d bytes, the most the enclave accepts",
                            field, source, PA_SECRET_MAX);
        return -1;
    }
    /* An Ed25519 API key's private key is a PEM text: several lines, from a
     * file only (stdin gives each field one line). */
    int pem = strcmp(field, "apiSecret") == 0 && strcmp(source, "stdin") != 0 && len > 11 &&
              memcmp(data, "-----BEGIN ", 11) == 0;
    if ((!pem && memchr(data, '\n', len) != NULL) || memchr(data, '\0', len) != NULL) {
        pa_client_set_error(err, 0, "invalid_input",
                            "%s (%s) must be a single line of text", field, source);
        return -1;
    }
    pa_buf_reset(out);
    if (pem) { /* CRLF line ends as LF */
        for (size_t i = 0; i < len; i++) {
            if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
                continue;
            if (pa_buf_append(out, &data[i], 1) != 0) {
                pa_client_set_error(err, 0, "internal_error", "out of memory");
                return -1;
            }
        }
        return 0;
    }
    if (pa_buf_append(out, data, len) != 0) {
        pa_client_set_error(err, 0, "internal_error", "out of memory");
        return -1;
    }
    return 0;
}

static int read_from_file(const char *path, const char *field, pa_buf *out,
                          pa_client_error *err)
{
    pa_buf raw;
    pa_buf_init(&raw, PA_CLIENT_SECRET_MAX + 2);
    int rc = -1;
    if (pa_client_read_file(path, PA_CLIENT_SECRET_MAX + 2, &raw, err) != 0) {
        if (raw.len > PA_SECRET_MAX) /* read that far: too long whatever else failed */
            pa_client_set_error(err, 0, "invalid_input",
                                "%s (%s) is longer than %d bytes, the most the enclave accepts",
                                field, path, PA_SECRET_MAX);
        goto cleanup;
    }
    size_t len = raw.len;
    strip_newline(raw.data, &len);
    PA_GUARD_GOTO(take_value(raw.data, len, field, path, out, err), cleanup);
    rc = 0;
cleanup:
    pa_buf_free(&raw);
    return rc;
}

/* The fields named "-" take successive lines of stdin, in field order. */
static int read_from_stdin(const int *from_stdin, pa_buf *const *outs, size_t nfields,
                           pa_client_error *err)
{
    pa_buf raw;
    pa_buf_init(&raw, PA_STDIN_MAX);
    int rc = -1;
    if (pa_client_read_fd(STDIN_FILENO, PA_STDIN_MAX, &raw) != 0) {
        pa_client_set_error(err, 0, "io_error", "cannot read the credentials from stdin");
        goto cleanup;
    }
    size_t want = 0;
    for (size_t i = 0; i < nfields; i++)
        want += from_stdin[i] ? 1 : 0;

    const uint8_t *p = raw.data, *end = raw.data + raw.len;
    size_t got = 0;
    for (size_t i = 0; i < nfields; i++) {
        if (!from_stdin[i])
            continue;
        if (p == NULL || p >= end) {
            pa_client_set_error(err, 0, "invalid_input",
                                "stdin holds %zu line(s); expected %zu (apiKey, apiSecret, "
                                "passphrase: those given as \"-\", in that order)",
                                got, want);
            goto cleanup;
        }
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        size_t vlen = len;
        strip_newline(p, &vlen);
        PA_GUARD_GOTO(take_value(p, vlen, field_names[i], "stdin", outs[i], err), cleanup);
        p += len;
        got++;
    }
    if (p != NULL && p < end) {
        pa_client_set_error(err, 0, "invalid_input",
                            "stdin holds more than the %zu line(s) expected", want);
        goto cleanup;
    }
    rc = 0;
cleanup:
    pa_buf_free(&raw);
    return rc;
}

int pa_client_read_secrets(const char *key_path, const char *secret_path, const char *pass_path,
                           pa_buf *key, pa_buf *secret, pa_buf *pass, pa_client_error *err)
{
    /* No secret_path (and no secret): an enclave-made key, whose secret
     * never leaves the enclave (perfagg submit --enclave-key). */
    if (key_path == NULL || key == NULL || (secret_path == NULL) != (secret == NULL) ||
        (pass_path != NULL && pass == NULL)) {
        pa_client_set_error(err, 0, "invalid_input",
                            "the API key and secret files are both required");
        return -1;
    }
    const char *paths[] = {key_path, secret_path, pass_path};
    pa_buf *const outs[] = {key, secret, pass};
    int from_stdin[3] = {0, 0, 0};
    int any_stdin = 0;
    size_t nfields = pass_path != NULL ? 3 : 2;

    for (size_t i = 0; i < nfields; i++) {
        if (paths[i] == NULL)
            continue; /* the secret of an enclave-made key */
        if (strcmp(paths[i], "-") == 0) {
            from_stdin[i] = any_stdin = 1;
            continue;
        }
        if (read_from_file(paths[i], field_names[i], outs[i], err) != 0)
            goto fail;
    }
    if (any_stdin && read_from_stdin(from_stdin, outs, nfields, err) != 0)
        goto fail;
    return 0;
fail:
    for (size_t i = 0; i < nfields; i++)
        if (outs[i] != NULL)
            pa_buf_free(outs[i]);
    return -1;
}
