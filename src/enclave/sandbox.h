/* The enclave's seccomp allow-list (docs/SECURITY.md, "The enclave process").
 * Loaded once initialisation is over (keys made, attestation platform open,
 * listening socket bound, privileges dropped): from then on any system call
 * outside the list kills the whole process (SIGSYS), clone3 answers ENOSYS so
 * glibc falls back to clone for threads, and clone itself may only create
 * threads, never processes. */
#ifndef PA_SANDBOX_H
#define PA_SANDBOX_H

#include "enclave_only.h"

#include "result.h"

/* Installs the filter on the calling thread (threads created afterwards
 * inherit it; call it before creating any). Sets no_new_privs. */
PA_MUST_USE int pa_sandbox_load(void);

/* What the enclave calls: pa_sandbox_load, except in sanitizer builds, whose
 * runtimes need ptrace and fork (LeakSanitizer) and which therefore run
 * without the filter (logged). */
PA_MUST_USE int pa_sandbox_apply(void);

#endif
