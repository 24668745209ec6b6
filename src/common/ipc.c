#include "ipc.h"

#include "ipc_addr.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Returns 0, -1 on error, 1 on EOF before the first byte. */
static int read_all(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && got == 0)
            return 1;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int pa_ipc_write_frame(int fd, const char *data, size_t len)
{
    PA_ENSURE(len <= PA_IPC_MAX_FRAME);
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    PA_GUARD(write_all(fd, hdr, 4));
    return write_all(fd, (const uint8_t *)data, len);
}

int pa_ipc_read_frame(int fd, pa_buf *out)
{
    uint8_t hdr[4];
    int r = read_all(fd, hdr, 4);
    if (r != 0)
        return r;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    PA_ENSURE(len <= PA_IPC_MAX_FRAME);
    pa_buf_reset(out);
    uint8_t chunk[4096];
    while (len > 0) {
        size_t want = len < sizeof chunk ? len : sizeof chunk;
        PA_ENSURE(read_all(fd, chunk, want) == 0);
        PA_GUARD(pa_buf_append(out, chunk, want));
        len -= (uint32_t)want;
    }
    /* an empty frame still yields a NUL-terminated (empty) string */
    return pa_buf_append(out, "", 0);
}

int pa_ipc_connect(const char *target, int timeout_ms)
{
    pa_ipc_addr a;
    if (target == NULL || pa_ipc_addr_parse_or_path(target, &a) != 0) {
        errno = EINVAL;
        return -1;
    }
    return pa_ipc_connect_addr(&a, timeout_ms);
}
