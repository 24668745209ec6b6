/* Stack sizes of the enclave's threads. All of the enclave's memory is
 * locked (mlockall, harden.c), so a thread's whole stack is resident from
 * its creation: glibc's default of 8 MiB per thread would be most of the
 * process's memory. */
#ifndef PA_THREAD_STACK_H
#define PA_THREAD_STACK_H

#include "enclave_only.h"

/* Threads that run requests and jobs (serve.c, enclave_jobs.c). 1 MiB holds
 * the deepest path measured (jansson at its 2048-level nesting limit,
 * tests/security/test_hardening.py) several times over; ASan's redzones make
 * every frame larger. */
#if defined(__SANITIZE_ADDRESS__)
#define PA_WORKER_STACK (4u << 20)
#else
#define PA_WORKER_STACK (1u << 20)
#endif

/* The egress bridge's threads (egress.c) only copy bytes through a 16 KiB
 * buffer. */
#if defined(__SANITIZE_ADDRESS__)
#define PA_BRIDGE_STACK (1u << 20)
#else
#define PA_BRIDGE_STACK (128u << 10)
#endif

#endif
