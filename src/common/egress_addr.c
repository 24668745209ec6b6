/* Parsing, connecting and listening for the egress path's addresses. */
#include "egress_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A decimal number in [lo, hi] that is exactly s[0..n): no sign, no spaces. */
static int parse_uint(const char *s, size_t n, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
    if (n == 0 || n > 10)
        return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_tcp(const char *s, pa_egress_addr *out)
{
    const char *colon;
    char host[INET6_ADDRSTRLEN];
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        PA_ENSURE(end != NULL && end[1] == ':');
        hl = (size_t)(end - s - 1);
        PA_ENSURE(hl > 0 && hl < sizeof host);
        memcpy(host, s + 1, hl);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        PA_ENSURE(colon != NULL);
        hl = (size_t)(colon - s);
        PA_ENSURE(hl > 0 && hl < sizeof host);
        memcpy(host, s, hl);
    }
    host[hl] = '\0';
    unsigned long port;
    PA_GUARD(parse_uint(colon + 1, strlen(colon + 1), 1, 65535, &port));
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->sa;
    if (s[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof *v4;
        out->family = AF_INET;
        return 0;
    }
    if (s[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->len = sizeof *v6;
        out->family = AF_INET6;
        return 0;
    }
    return -1;
}

static int parse_vsock(const char *s, pa_egress_addr *out)
{
    const char *colon = strchr(s, ':');
    PA_ENSURE(colon != NULL);
    unsigned long cid, port;
    PA_GUARD(parse_uint(s, (size_t)(colon - s), 0, UINT32_MAX, &cid));
    PA_GUARD(parse_uint(colon + 1, strlen(colon + 1), 0, UINT32_MAX, &port));
    memset(out, 0, sizeof *out);
    struct sockaddr_vm *vm = (struct sockaddr_vm *)&out->sa;
    vm->svm_family = AF_VSOCK;
    vm->svm_cid = (unsigned)cid;
    vm->svm_port = (unsigned)port;
    out->len = sizeof *vm;
    out->family = AF_VSOCK;
    return 0;
}

static int parse_unix(const char *path, pa_egress_addr *out)
{
    size_t n = strlen(path);
    struct sockaddr_un *un = (struct sockaddr_un *)&out->sa;
    PA_ENSURE(n > 0 && n < sizeof un->sun_path);
    memset(out, 0, sizeof *out);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n + 1);
    out->len = (socklen_t)sizeof *un;
    out->family = AF_UNIX;
    return 0;
}

int pa_egress_addr_parse(const char *text, pa_egress_addr *out)
{
    PA_ENSURE(text != NULL && out != NULL);
    if (strncmp(text, "unix:", 5) == 0)
        return parse_unix(text + 5, out);
    if (strncmp(text, "tcp://", 6) == 0)
        return parse_tcp(text + 6, out);
    if (strncmp(text, "vsock://", 8) == 0)
        return parse_vsock(text + 8, out);
    return -1;
}

int pa_egress_addr_connect(const pa_egress_addr *a)
{
    int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    do {
        rc = connect(fd, (const struct sockaddr *)&a->sa, a->len);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int pa_egress_addr_listen(const pa_egress_addr *a)
{
    int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (a->family == AF_INET || a->family == AF_INET6)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    mode_t old = 0;
    if (a->family == AF_UNIX) {
        unlink(((const struct sockaddr_un *)&a->sa)->sun_path);
        old = umask(0077); /* only the owning user may connect */
    }
    int rc = bind(fd, (const struct sockaddr *)&a->sa, a->len);
    if (a->family == AF_UNIX)
        umask(old);
    if (rc != 0 || listen(fd, 64) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
