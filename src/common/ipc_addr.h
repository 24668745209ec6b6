/* Where the host <-> enclave channel lives (ENCLAVE_ADDR, docs/IPC.md):
 *
 *   unix:/path/to/socket     a Unix stream socket (development, tests)
 *   vsock://CID:PORT         an AF_VSOCK stream socket (AWS Nitro Enclaves)
 *
 * CID and PORT are unsigned decimal without sign or leading zeros; CID may
 * also be `any` (VMADDR_CID_ANY, for listening: the enclave binds that and
 * the host connects to the enclave's CID). PORT cannot be VMADDR_PORT_ANY.
 * Both processes use the same syntax: the enclave listens, the server
 * connects. The address carries no trust (see docs/SECURITY.md). */
#ifndef PA_IPC_ADDR_H
#define PA_IPC_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define PA_IPC_ADDR_MAX 256      /* longest accepted address string */
#define PA_IPC_UNIX_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - NUL */
#define PA_IPC_VSOCK_CID_ANY UINT32_MAX

typedef enum { PA_IPC_UNIX = 1, PA_IPC_VSOCK = 2 } pa_ipc_kind;

typedef struct {
    pa_ipc_kind kind;
    char path[PA_IPC_UNIX_PATH_MAX + 1]; /* PA_IPC_UNIX */
    uint32_t cid, port;                  /* PA_IPC_VSOCK */
} pa_ipc_addr;

/* Parses an address strictly; -1 for anything else (unknown scheme, empty or
 * overlong path, a path with control characters, a malformed or out-of-range
 * number, trailing bytes). */
PA_MUST_USE int pa_ipc_addr_parse(const char *s, pa_ipc_addr *out);

/* The same as pa_ipc_addr_parse, but a string with neither the `unix:` nor the
 * `vsock:` prefix is taken as a bare Unix socket path (the older
 * PERFAGG_ENCLAVE_SOCKET form). */
PA_MUST_USE int pa_ipc_addr_parse_or_path(const char *s, pa_ipc_addr *out);

/* The channel's address from the environment, the same rule on both sides:
 * ENCLAVE_ADDR (enclave_addr, strict) when set and non-empty; otherwise the
 * Unix socket path PERFAGG_ENCLAVE_SOCKET (legacy_socket); otherwise
 * unix:var/enclave.sock. -1 when the chosen value is malformed. */
PA_MUST_USE int pa_ipc_addr_resolve(const char *enclave_addr, const char *legacy_socket,
                                    pa_ipc_addr *out);

/* Writes the canonical form of a (as accepted by pa_ipc_addr_parse) into out. */
PA_MUST_USE int pa_ipc_addr_format(const pa_ipc_addr *a, char *out, size_t outlen);

/* A listening stream socket (close-on-exec) with the given backlog. A Unix
 * socket file is replaced if present and created under umask 0077 (no
 * access for group or others: only the owning user may connect). -1 with
 * errno on failure. */
int pa_ipc_listen(const pa_ipc_addr *a, int backlog);

/* A connected stream socket with send/receive timeouts (ms); -1 with errno
 * on failure. */
int pa_ipc_connect_addr(const pa_ipc_addr *a, int timeout_ms);

#endif
