/* Framing of the host <-> enclave protocol (docs/PROTOCOL.md, "Enclave IPC").
 * A frame is a 4-byte big-endian length followed by that many bytes of UTF-8
 * JSON. Framing carries no trust: the enclave validates every field itself. */
#ifndef PA_IPC_H
#define PA_IPC_H

#include <stddef.h>

#include "buf.h"
#include "result.h"

#define PA_IPC_MAX_FRAME (1u << 20) /* 1 MiB */

PA_MUST_USE int pa_ipc_write_frame(int fd, const char *data, size_t len);
/* Reads one frame into out (reset first). Returns 0, -1 on error or a frame
 * over PA_IPC_MAX_FRAME, and 1 on a clean end of stream before any byte. */
PA_MUST_USE int pa_ipc_read_frame(int fd, pa_buf *out);

/* Connects with send/receive timeouts (ms) to target: an ENCLAVE_ADDR
 * (`unix:/path`, `vsock://CID:PORT`, ipc_addr.h) or a bare Unix socket path.
 * -1 with errno on failure (EINVAL: not a valid address). */
int pa_ipc_connect(const char *target, int timeout_ms);

#endif
