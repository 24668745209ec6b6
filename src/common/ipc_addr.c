/* Socket addresses: parsing, formatting, listening and connecting
 * (ipc_addr.h). */
#include "ipc_addr.h"

#include <arpa/inet.h>
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
 * fine), at most UINT32_MAX; exactly the bytes [s, end). */
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

/* IP:PORT with a dotted IPv4 literal, or [IP]:PORT with an IPv6 literal
 * (inet_pton: no names, no leading zeros in IPv4, no IPv6 scope id). */
static int parse_tcp(const char *s, pa_ipc_addr *out)
{
    char host[INET6_ADDRSTRLEN];
    const char *hs = s, *he, *colon;
    if (s[0] == '[') {
        hs = s + 1;
        he = strchr(hs, ']');
        PA_ENSURE(he != NULL && he[1] == ':');
        colon = he + 1;
    } else {
        colon = strrchr(s, ':');
        PA_ENSURE(colon != NULL);
        he = colon;
    }
    size_t hl = (size_t)(he - hs);
    PA_ENSURE(hl > 0 && hl < sizeof host);
    memcpy(host, hs, hl);
    host[hl] = '\0';
    uint32_t port;
    PA_GUARD(parse_u32(colon + 1, colon + 1 + strlen(colon + 1), &port));
    PA_ENSURE(port >= 1 && port <= 65535);
    memset(out, 0, sizeof *out);
    out->family = s[0] == '[' ? AF_INET6 : AF_INET;
    PA_ENSURE(inet_pton(out->family, host, &out->ip) == 1);
    out->kind = PA_IPC_TCP;
    out->port = port;
    return 0;
}

int pa_ipc_addr_parse(const char *s, unsigned kinds, pa_ipc_addr *out)
{
    PA_ENSURE(s != NULL && out != NULL);
    PA_ENSURE(strlen(s) <= PA_IPC_ADDR_MAX);
    if (strncmp(s, "unix:", 5) == 0 && (kinds & PA_IPC_UNIX))
        return parse_unix(s + 5, out);
    if (strncmp(s, "vsock://", 8) == 0 && (kinds & PA_IPC_VSOCK))
        return parse_vsock(s + 8, out);
    if (strncmp(s, "tcp://", 6) == 0 && (kinds & PA_IPC_TCP))
        return parse_tcp(s + 6, out);
    return -1;
}

int pa_ipc_addr_parse_or_path(const char *s, pa_ipc_addr *out)
{
    PA_ENSURE(s != NULL && out != NULL);
    /* A string naming a scheme is an address, never a path: "tcp://..." is
     * refused here rather than taken as a file of that name. */
    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "vsock:", 6) == 0 || strncmp(s, "tcp:", 4) == 0)
        return pa_ipc_addr_parse(s, PA_IPC_KINDS_ENCLAVE, out);
    return parse_unix(s, out);
}

int pa_ipc_addr_resolve(const char *enclave_addr, const char *legacy_socket, pa_ipc_addr *out)
{
    if (enclave_addr != NULL && *enclave_addr != '\0')
        return pa_ipc_addr_parse(enclave_addr, PA_IPC_KINDS_ENCLAVE, out);
    if (legacy_socket != NULL && *legacy_socket != '\0')
        return parse_unix(legacy_socket, out);
    return parse_unix("var/enclave.sock", out);
}

int pa_ipc_addr_format(const pa_ipc_addr *a, char *out, size_t outlen)
{
    int n = -1;
    char ip[INET6_ADDRSTRLEN];
    if (a != NULL && a->kind == PA_IPC_UNIX)
        n = snprintf(out, outlen, "unix:%s", a->path);
    else if (a != NULL && a->kind == PA_IPC_VSOCK && a->cid == PA_IPC_VSOCK_CID_ANY)
        n = snprintf(out, outlen, "vsock://any:%u", a->port);
    else if (a != NULL && a->kind == PA_IPC_VSOCK)
        n = snprintf(out, outlen, "vsock://%u:%u", a->cid, a->port);
    else if (a != NULL && a->kind == PA_IPC_TCP &&
             inet_ntop(a->family, &a->ip, ip, sizeof ip) != NULL)
        n = snprintf(out, outlen, a->family == AF_INET6 ? "tcp://[%s]:%u" : "tcp://%s:%u", ip,
                     a->port);
    PA_ENSURE(n >= 0 && (size_t)n < outlen);
    return 0;
}

int pa_ipc_addr_sockaddr(const pa_ipc_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    PA_ENSURE(a != NULL && ss != NULL && len != NULL);
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
    if (a->kind == PA_IPC_TCP && a->family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
        v4->sin_family = AF_INET;
        v4->sin_addr = a->ip.v4;
        v4->sin_port = htons((uint16_t)a->port);
        *len = (socklen_t)sizeof *v4;
        return 0;
    }
    if (a->kind == PA_IPC_TCP && a->family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = a->ip.v6;
        v6->sin6_port = htons((uint16_t)a->port);
        *len = (socklen_t)sizeof *v6;
        return 0;
    }
    return -1;
}

/* Closes fd keeping errno; -1 for the caller to return. */
static int close_failed(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int pa_ipc_listen(const pa_ipc_addr *a, int backlog, mode_t unix_mode)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (a == NULL || (unix_mode & ~(mode_t)0777) != 0 || pa_ipc_addr_sockaddr(a, &ss, &len) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc;
    if (a->kind == PA_IPC_UNIX) {
        unlink(a->path); /* a stale socket from an earlier run */
        /* bind creates the file as 0777 & ~umask: exactly unix_mode, with no
         * moment at a wider mode (as a chmod after bind would leave). */
        mode_t old = umask(0777 & ~unix_mode);
        rc = bind(fd, (struct sockaddr *)&ss, len);
        umask(old);
    } else {
        if (a->kind == PA_IPC_TCP) {
            int one = 1; /* restart while old connections sit in TIME_WAIT */
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        rc = bind(fd, (struct sockaddr *)&ss, len);
    }
    if (rc != 0 || listen(fd, backlog) != 0)
        return close_failed(fd);
    return fd;
}

int pa_ipc_set_timeout(int fd, int timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000,
                         .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return -1;
    return 0;
}

int pa_ipc_connect_addr(const pa_ipc_addr *a, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (a == NULL || timeout_ms < 0 || pa_ipc_addr_sockaddr(a, &ss, &len) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (timeout_ms > 0) {
        /* SO_SNDTIMEO also bounds a Unix or TCP connect() (one that waits for
         * a full backlog, or for a SYN answer). */
        struct timeval tv = {.tv_sec = timeout_ms / 1000,
                             .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
        if (pa_ipc_set_timeout(fd, timeout_ms) != 0)
            return close_failed(fd);
        if (a->kind == PA_IPC_VSOCK) {
            /* AF_VSOCK's connect() ignores SO_SNDTIMEO and has its own
             * timeout (2 s by default). */
            setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
        }
    }
    int rc;
    do {
        /* An interrupted Unix or vsock connect() leaves the socket
         * unconnected, so it can be tried again. */
        rc = connect(fd, (struct sockaddr *)&ss, len);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
        return close_failed(fd);
    return fd;
}
