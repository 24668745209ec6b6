/* Process hardening of perfagg-enclave: keeps secrets out of core dumps,
 * swap and other processes (docs/SECURITY.md, "The enclave process"). */
#ifndef PA_HARDEN_H
#define PA_HARDEN_H

#include "enclave_only.h"

#include <stddef.h>

#include "result.h"

/* The OpenSSL secure heap for `workers` concurrent requests: a power of two,
 * at least 1 MiB (private keys, decrypted API secrets). */
size_t pa_harden_secure_heap_size(long workers);

/* First thing in main, before any secret exists: RLIMIT_CORE 0, not
 * dumpable (which also refuses ptrace by other processes of the same user),
 * no Yama ptracer exception, memory locked where the limits allow it, and
 * OpenSSL's secure heap (mlocked, MADV_DONTDUMP, guard pages) of heap_bytes.
 * -1 when a step that protects secrets fails (the enclave must not start). */
PA_MUST_USE int pa_harden_process(size_t heap_bytes);

/* When running as root: setgroups/setgid/setuid to `user` (PERFAGG_ENCLAVE_USER,
 * default "nobody"), after which root cannot be regained; only CAP_IPC_LOCK
 * is kept, when memory is locked with MCL_FUTURE, and CAP_SYS_ADMIN when
 * keep_nsm (the Nitro platform: the NSM driver's raw ioctl requires it). Call
 * after every privileged open (listening socket, state directory, /dev/nsm)
 * and before the seccomp filter. A no-op for an unprivileged process. */
PA_MUST_USE int pa_harden_drop_privileges(const char *user, int keep_nsm);

#endif
