/* Socket addresses between perfagg's processes, one syntax for all of them:
 *
 *   unix:/path/to/socket     a Unix stream socket (development, tests)
 *   vsock://CID:PORT         an AF_VSOCK stream socket (AWS Nitro Enclaves)
 *   tcp://IP:PORT            a TCP socket: dotted IPv4 or [IPv6] literal
 *
 * Used for ENCLAVE_ADDR (server <-> enclave, docs/NITRO.md; unix and vsock
 * only) and for the egress relay (PERFAGG_EGRESS_RELAY and perfagg-relay
 * --listen, docs/SECURITY.md; all three). Each caller names the kinds it
 * takes. CID and PORT are unsigned decimal without sign or leading zeros;
 * CID may also be `any` (VMADDR_CID_ANY, for listening); a vsock PORT cannot
 * be VMADDR_PORT_ANY; a tcp PORT is 1-65535. No name is ever resolved: the
 * address is exactly what was written. An address carries no trust (see
 * docs/SECURITY.md). */
#ifndef PA_IPC_ADDR_H
#define PA_IPC_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "result.h"

#define PA_IPC_ADDR_MAX 256      /* longest accepted address string */
#define PA_IPC_UNIX_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - NUL */
#define PA_IPC_VSOCK_CID_ANY UINT32_MAX

/* Bit flags, so a caller can say which kinds it accepts. */
typedef enum { PA_IPC_UNIX = 1, PA_IPC_VSOCK = 2, PA_IPC_TCP = 4 } pa_ipc_kind;

/* ENCLAVE_ADDR: the host <-> enclave channel is never TCP (docs/NITRO.md). */
#define PA_IPC_KINDS_ENCLAVE (PA_IPC_UNIX | PA_IPC_VSOCK)
#define PA_IPC_KINDS_ALL (PA_IPC_UNIX | PA_IPC_VSOCK | PA_IPC_TCP)

/* Permission bits of a listening Unix socket file (pa_ipc_listen). */
#define PA_IPC_MODE_OWNER 0700    /* only the owning user may connect */
#define PA_IPC_MODE_ANY_USER 0666 /* any local user may connect */

typedef struct {
    pa_ipc_kind kind;
    char path[PA_IPC_UNIX_PATH_MAX + 1]; /* PA_IPC_UNIX */
    uint32_t cid;                        /* PA_IPC_VSOCK */
    uint32_t port;                       /* PA_IPC_VSOCK, PA_IPC_TCP */
    int family;                          /* PA_IPC_TCP: AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } ip; /* PA_IPC_TCP */
} pa_ipc_addr;

/* Parses an address strictly, accepting only the kinds in `kinds` (a mask
 * of pa_ipc_kind); -1 for anything else (another kind, unknown scheme, empty
 * or overlong path, a path with control characters, an abstract socket, a
 * host name, a malformed or out-of-range number, trailing bytes). */
PA_MUST_USE int pa_ipc_addr_parse(const char *s, unsigned kinds, pa_ipc_addr *out);

/* The same as pa_ipc_addr_parse(s, PA_IPC_KINDS_ENCLAVE, out), but a string
 * with none of the `unix:`, `vsock:`, `tcp:` prefixes is taken as a bare
 * Unix socket path (the older PERFAGG_ENCLAVE_SOCKET form). */
PA_MUST_USE int pa_ipc_addr_parse_or_path(const char *s, pa_ipc_addr *out);

/* The enclave channel's address from the environment, the same rule on both
 * sides: ENCLAVE_ADDR (enclave_addr, strict, unix or vsock) when set and
 * non-empty; otherwise the Unix socket path PERFAGG_ENCLAVE_SOCKET
 * (legacy_socket); otherwise unix:var/enclave.sock. -1 when the chosen value
 * is malformed. */
PA_MUST_USE int pa_ipc_addr_resolve(const char *enclave_addr, const char *legacy_socket,
                                    pa_ipc_addr *out);

/* Writes the canonical form of a (as accepted by pa_ipc_addr_parse) into out;
 * -1, not a truncation, when out is too small. */
PA_MUST_USE int pa_ipc_addr_format(const pa_ipc_addr *a, char *out, size_t outlen);

/* The kernel's form of a (for libcurl's opensocket callback, bind, connect);
 * *len receives its size. */
PA_MUST_USE int pa_ipc_addr_sockaddr(const pa_ipc_addr *a, struct sockaddr_storage *ss,
                                     socklen_t *len);

/* A listening stream socket (close-on-exec) with the given backlog. A Unix
 * socket file is replaced if present and created with the permission bits
 * unix_mode (PA_IPC_MODE_*; set through the umask at bind, so it is never
 * wider even for a moment); TCP sets SO_REUSEADDR. -1 with errno on
 * failure. */
int pa_ipc_listen(const pa_ipc_addr *a, int backlog, mode_t unix_mode);

/* A connected (blocking, close-on-exec) stream socket; timeout_ms > 0 bounds
 * the connect and every later send and receive, 0 leaves the kernel's
 * defaults (no send/receive timeout). -1 with errno on failure. */
int pa_ipc_connect_addr(const pa_ipc_addr *a, int timeout_ms);

/* Bounds each send and receive on a connected socket to timeout_ms (0:
 * none), e.g. again for each call on a connection kept open. */
PA_MUST_USE int pa_ipc_set_timeout(int fd, int timeout_ms);

#endif
