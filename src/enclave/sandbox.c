#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "log.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* System calls the enclave makes after initialisation, found with
 * `strace -f` over the integration flow (docs/SECURITY.md lists how): the
 * epoll server and worker pool, libcurl with its threaded resolver (glibc's
 * resolver reads /etc/{hosts,resolv.conf,nsswitch.conf,gai.conf} and may
 * dlopen an NSS module), OpenSSL (getrandom) and jansson. Nothing here
 * writes files, executes programs, changes credentials or traces. */
static const char *const allowed[] = {
    /* memory */
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    /* threads, time, signals */
    "futex",
    "set_robust_list",
    "rseq",
    "sched_yield",
    "gettid",
    "getpid",
    "exit",
    "exit_group",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "nanosleep",
    "clock_nanosleep",
    "getrandom",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigaction",
    "sigaltstack",
    "tgkill",
    "restart_syscall",
    "prlimit64",
    "getrlimit",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "uname",
    /* descriptors and sockets */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "close",
    "fcntl",
    "poll",
    "ppoll",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "eventfd2",
    "socketpair",
    "accept4",
    "connect",
    "bind",
    "listen", /* egress.c's one-shot bridge to a vsock relay (libcurl < 8.0) */
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "shutdown",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    /* reading configuration (CA bundle, resolver files, NSS modules) */
    "fstat",
    "newfstatat",
    "statx",
    "stat",
    "lstat",
    "lseek",
    "access",
    "faccessat",
    "faccessat2",
};

static int allow_all(scmp_filter_ctx ctx)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(allowed); i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not on this architecture (stat, select on aarch64) */
        PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0);
    }
    return 0;
}

/* Files open for reading only: no O_WRONLY/O_RDWR, no O_CREAT or O_TRUNC. */
static int allow_open_readonly(scmp_filter_ctx ctx)
{
    const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
    PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, mask, O_RDONLY)) == 0);
    int open_nr = seccomp_syscall_resolve_name("open");
    if (open_nr != __NR_SCMP_ERROR)
        PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, open_nr, 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, mask, O_RDONLY)) == 0);
    return 0;
}

/* Sockets of the families the enclave speaks: IP to the exchange or relay
 * (and DNS), Unix (glibc's nscd probe), netlink (getaddrinfo's
 * AI_ADDRCONFIG), vsock (Nitro's host relay). A raw or packet socket is a
 * violation. */
static int allow_sockets(scmp_filter_ctx ctx)
{
    static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_VSOCK};
    for (size_t i = 0; i < PA_ARRAY_LEN(families); i++)
        PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                   SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i])) == 0);
    return 0;
}

/* The Nitro Security Module's one request (linux/nsm.h: NSM_IOCTL_RAW =
 * _IOWR(0x0A, 0, struct nsm_raw), two {addr, len} iovecs), so the Nitro
 * provider can attest and draw randomness after start-up. */
struct pa_nsm_raw_layout {
    uint64_t request_addr, request_len, response_addr, response_len;
};
static const scmp_datum_t nsm_ioctl_raw = _IOWR(0x0A, 0x0, struct pa_nsm_raw_layout);

/* ioctl only to ask how many bytes wait on a socket (glibc's DNS client
 * sizes its answer buffer with FIONREAD) and for the NSM request. */
static int allow_ioctl(scmp_filter_ctx ctx)
{
    PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                               SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)FIONREAD)) == 0);
    PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                               SCMP_A1(SCMP_CMP_EQ, nsm_ioctl_raw)) == 0);
    return 0;
}

/* clone only with CLONE_THREAD (pthread_create), never a new process;
 * clone3 cannot be filtered by its flags (they sit in memory), so it answers
 * ENOSYS and glibc retries with clone. */
static int allow_threads(scmp_filter_ctx ctx)
{
    PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) == 0);
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (clone3 != __NR_SCMP_ERROR)
        PA_ENSURE(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0) == 0);
    return 0;
}

int pa_sandbox_load(void)
{
    int rc = -1;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    PA_ENSURE(ctx != NULL);
    /* no_new_privs: nothing the process runs later can gain privileges */
    PA_ENSURE_GOTO(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) == 0, cleanup);
    PA_GUARD_GOTO(allow_all(ctx), cleanup);
    PA_GUARD_GOTO(allow_open_readonly(ctx), cleanup);
    PA_GUARD_GOTO(allow_sockets(ctx), cleanup);
    PA_GUARD_GOTO(allow_threads(ctx), cleanup);
    PA_GUARD_GOTO(allow_ioctl(ctx), cleanup);
    int e = seccomp_load(ctx);
    if (e != 0) {
        pa_log_error("cannot load the seccomp filter: %s", strerror(-e));
        goto cleanup;
    }
    rc = 0;
cleanup:
    seccomp_release(ctx);
    return rc;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PA_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PA_SANITIZED 1
#endif
#endif

int pa_sandbox_apply(void)
{
#ifdef PA_SANITIZED
    pa_log_warn("sanitizer build: running WITHOUT the seccomp filter");
    return 0;
#else
    PA_GUARD(pa_sandbox_load());
    pa_log_info("seccomp allow-list loaded (%zu calls; anything else kills the process)",
                PA_ARRAY_LEN(allowed) + 6);
    return 0;
#endif
}
