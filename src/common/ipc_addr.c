/* ENCLAVE_ADDR: parsing, listening and connecting (ipc_addr.h). */
#include "ipc_addr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == PA_IPC_UNIX_PATH_MAX + 1,
               "PA_IPC_UNIX_PATH_MAX follows sun_path");

/* Unsigned decimal, no sign, no blanks, no leading zeros ("0" itself is
 * fine), at most UINT32_MAX; consumes up to (not including) stop. */
static int parse_u32(const char *s, const char *end, uint32_t *out)
{
    PA_ENSURE(end > s && end - s <= 10);
    PA_ENSURE(!(s[0] == '0' && end - s > 1));
    uint64_t v = 0;
    for (const char *p = s; p < end; p++) {
        PA_ENSURE(*p >= '0' && *p <= '9');
        v = v * 10 + (uint64_t)(*p - '0');
    }
    PA_ENSURE(v <= UINT32_MAX);
    *out = (uint32_t)v;
    return 0;
}

static int parse_unix(const char *path, pa_ipc_addr *out)
{
    size_t n = strlen(path);
    PA_ENSURE(n > 0 && n <= PA_IPC_UNIX_PATH_MAX);
    /* Linux abstract sockets ("\0name", often written "@name") are reachable
     * by any process in the network namespace whatever its user: refused, so
     * the 0600 socket file stays the only access control. */
    PA_ENSURE(path[0] != '@');
    for (size_t i = 0; i < n; i++)
        PA_ENSURE((unsigned char)path[i] >= 0x20 && path[i] != 0x7f);
    memset(out, 0, sizeof *out);
    out->kind = PA_IPC_UNIX;
    memcpy(out->path, path, n + 1);
    return 0;
}

static int parse_vsock(const char *hostport, pa_ipc_addr *out)
{
    const char *colon = strchr(hostport, ':');
    PA_ENSURE(colon != NULL);
    uint32_t cid, port;
    if (colon - hostport == 3 && memcmp(hostport, "any", 3) == 0)
        cid = PA_IPC_VSOCK_CID_ANY;
    else
        PA_GUARD(parse_u32(hostport, colon, &cid));
    const char *p = colon + 1;
    PA_GUARD(parse_u32(p, p + strlen(p), &port));
    /* VMADDR_PORT_ANY would make the kernel pick a port nobody knows. */
    PA_ENSURE(port != VMADDR_PORT_ANY);
    memset(out, 0, sizeof *out);
    out->kind = PA_IPC_VSOCK;
    out->cid = cid;
    out->port = port;
    return 0;
}

int pa_ipc_addr_parse(const char *s, pa_ipc_addr *out)
{
    PA_ENSURE(s != NULL && out != NULL);
    PA_ENSURE(strlen(s) <= PA_IPC_ADDR_MAX);
    if (strncmp(s, "unix:", 5) == 0)
        return parse_unix(s + 5, out);
    if (strncmp(s, "vsock://", 8) == 0)
        return parse_vsock(s + 8, out);
    return -1;
}

int pa_ipc_addr_parse_or_path(const char *s, pa_ipc_addr *out)
{
    PA_ENSURE(s != NULL && out != NULL);
    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "vsock:", 6) == 0)
        return pa_ipc_addr_parse(s, out);
    return parse_unix(s, out);
}

int pa_ipc_addr_resolve(const char *enclave_addr, const char *legacy_socket, pa_ipc_addr *out)
{
    if (enclave_addr != NULL && *enclave_addr != '\0')
        return pa_ipc_addr_parse(enclave_addr, out);
    if (legacy_socket != NULL && *legacy_socket != '\0')
        return parse_unix(legacy_socket, out);
    return parse_unix("var/enclave.sock", out);
}

int pa_ipc_addr_format(const pa_ipc_addr *a, char *out, size_t outlen)
{
    int n = -1;
    if (a != NULL && a->kind == PA_IPC_UNIX)
        n = snprintf(out, outlen, "unix:%s", a->path);
    else if (a != NULL && a->kind == PA_IPC_VSOCK && a->cid == PA_IPC_VSOCK_CID_ANY)
        n = snprintf(out, outlen, "vsock://any:%u", a->port);
    else if (a != NULL && a->kind == PA_IPC_VSOCK)
        n = snprintf(out, outlen, "vsock://%u:%u", a->cid, a->port);
    PA_ENSURE(n >= 0 && (size_t)n < outlen);
    return 0;
}

/* The sockaddr for a; *len receives its size. */
static int to_sockaddr(const pa_ipc_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (a->kind == PA_IPC_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(a->path);
        PA_ENSURE(n > 0 && n < sizeof un->sun_path);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, a->path, n + 1);
        *len = (socklen_t)sizeof *un;
        return 0;
    }
    if (a->kind == PA_IPC_VSOCK) {
        struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;
        vm->svm_family = AF_VSOCK;
        vm->svm_cid = a->cid;
        vm->svm_port = a->port;
        *len = (socklen_t)sizeof *vm;
        return 0;
    }
    return -1;
}

int pa_ipc_listen(const pa_ipc_addr *a, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (a == NULL || to_sockaddr(a, &ss, &len) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    if (a->kind == PA_IPC_UNIX) {
        unlink(a->path); /* a stale socket from an earlier run */
        mode_t old = umask(0077);
        rc = bind(fd, (struct sockaddr *)&ss, len);
        umask(old);
    } else {
        rc = bind(fd, (struct sockaddr *)&ss, len);
    }
    if (rc != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int pa_ipc_connect_addr(const pa_ipc_addr *a, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (a == NULL || timeout_ms < 0 || to_sockaddr(a, &ss, &len) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* SO_SNDTIMEO also bounds a Unix connect() that waits for a full
     * backlog. */
    struct timeval tv = {.tv_sec = timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (a->kind == PA_IPC_VSOCK) {
        /* AF_VSOCK's connect() ignores SO_SNDTIMEO and has its own timeout
         * (2 s by default). */
        setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
    }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
