/* Reading inputs and writing bundles. Reads go through read(2) into a pa_buf
 * rather than stdio, so a secret file's bytes are not left behind in a FILE
 * buffer that is freed without being wiped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "client_internal.h"

int pa_client_read_fd(int fd, size_t cap, pa_buf *buf)
{
    uint8_t chunk[4096];
    int rc = -1;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto cleanup;
        if (n == 0)
            break;
        if (buf->len + (size_t)n > cap)
            goto cleanup;
        PA_GUARD_GOTO(pa_buf_append(buf, chunk, (size_t)n), cleanup);
    }
    rc = 0;
cleanup:
    OPENSSL_cleanse(chunk, sizeof chunk);
    return rc;
}

int pa_client_read_file(const char *path, size_t cap, pa_buf *buf, pa_client_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        pa_client_set_error(err, 0, "io_error", "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = pa_client_read_fd(fd, cap, buf);
    int saved = errno;
    close(fd);
    if (rc != 0)
        pa_client_set_error(err, 0, "io_error", "%s: %s", path,
                            buf->len >= cap ? "file too large" : strerror(saved));
    return rc;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int pa_client_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                                pa_client_error *err)
{
    char tmp[PATH_MAX];
    int fd = -1, rc = -1;
    int w = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    if (path[0] == '\0' || w < 0 || (size_t)w >= sizeof tmp) {
        pa_client_set_error(err, 0, "io_error", "%s: bad output path", path);
        return -1;
    }
    /* Same directory as the target, so rename(2) is atomic. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        pa_client_set_error(err, 0, "io_error", "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0644) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        pa_client_set_error(err, 0, "io_error", "%s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        pa_client_set_error(err, 0, "io_error", "%s: %s", tmp, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        pa_client_set_error(err, 0, "io_error", "%s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    return rc;
}
