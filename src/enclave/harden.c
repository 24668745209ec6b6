#include "harden.h"

#include <errno.h>
#include <malloc.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"

#ifndef PR_SET_PTRACER
#define PR_SET_PTRACER 0x59616d61
#endif

/* The secure heap's smallest block: anything smaller is rounded up, so a
 * 32-byte private key takes one block. */
#define SECURE_HEAP_MIN_BLOCK 32
#define SECURE_HEAP_PER_WORKER ((size_t)16 * 1024) /* 4 secrets of 512 B + symbols + HMAC key */
#define SECURE_HEAP_FLOOR (1u << 20)
#define SECURE_HEAP_CEILING (1u << 26)

/* mlockall(MCL_FUTURE) is in force: every later allocation is locked too. */
static int all_locked;

size_t pa_harden_secure_heap_size(long workers)
{
    size_t want = workers > 0 ? (size_t)workers * SECURE_HEAP_PER_WORKER : 0;
    size_t n = SECURE_HEAP_FLOOR;
    while (n < want && n < SECURE_HEAP_CEILING)
        n <<= 1;
    return n;
}

int pa_harden_process(size_t heap_bytes)
{
    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        pa_log_error("cannot disable core dumps: %s", strerror(errno));
        return -1;
    }
    /* Under Yama ptrace_scope 1 a process may name one tracer; name none.
     * EINVAL just means Yama is not there, and dumpable 0 already refuses
     * PTRACE_ATTACH from any process without CAP_SYS_PTRACE. */
    (void)prctl(PR_SET_PTRACER, 0, 0, 0, 0);

    /* MCL_FUTURE under a small RLIMIT_MEMLOCK would make later allocations
     * fail, so lock everything only when the limit cannot bite: as root
     * (CAP_IPC_LOCK, which pa_harden_drop_privileges keeps for this reason)
     * or under an unlimited RLIMIT_MEMLOCK. */
    /* Under mlockall every page malloc keeps for reuse stays resident, so
     * keep few: glibc's default of 8 arenas a core gave each of the 16
     * concurrent aggregate runs an arena of its own (188-200 MB under load),
     * and its dynamic mmap threshold moved a run's large buffers (the fill
     * list, an exchange page and its JSON) into those arenas after the first
     * free. Two arenas, and large blocks always mapped and unmapped on free
     * (docs/BENCHMARKS.md, "Enclave memory"). */
    if (mallopt(M_ARENA_MAX, 2) != 1 || mallopt(M_MMAP_THRESHOLD, 128 * 1024) != 1)
        pa_log_warn("mallopt failed: the enclave may keep more memory resident");

    struct rlimit ml;
    if (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && (geteuid() == 0 || ml.rlim_cur == RLIM_INFINITY)) {
        if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0)
            all_locked = 1;
        else
            pa_log_warn(
                "mlockall failed (%s): secrets outside the secure heap could be swapped out",
                strerror(errno));
    } else {
        pa_log_warn("memory not locked (RLIMIT_MEMLOCK): only the secure heap is locked");
    }

    /* The private keys (OpenSSL allocates X25519 and Ed25519 private keys
     * here) and the decrypted API secrets (src/envelope/credentials.c) live
     * in this heap: its own mapping, mlocked, MADV_DONTDUMP, between guard
     * pages, wiped on free. (OpenSSL 3.0's HMAC does not use it: see
     * docs/SECURITY.md for what remains in the ordinary heap.) */
    int r = CRYPTO_secure_malloc_init(heap_bytes, SECURE_HEAP_MIN_BLOCK);
    if (r == 0) {
        pa_log_error("cannot create the OpenSSL secure heap (%zu bytes)", heap_bytes);
        return -1;
    }
    if (r == 2)
        pa_log_warn("the OpenSSL secure heap is not locked in memory (RLIMIT_MEMLOCK)");
    return 0;
}

int pa_harden_drop_privileges(const char *user, int keep_nsm)
{
    if (geteuid() != 0 && getuid() != 0)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL || pw->pw_uid == 0) {
        pa_log_error("cannot drop root: no unprivileged user \"%s\"", user);
        return -1;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    /* A change of user clears the parent-death signal a supervisor set
     * (PR_SET_PDEATHSIG): keep it, so the enclave still dies with its
     * supervisor instead of lingering as an orphan. */
    int pdeath = 0;
    pid_t parent = getppid();
    (void)prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
    /* Under mlockall(MCL_FUTURE) every later allocation counts against
     * RLIMIT_MEMLOCK unless CAP_IPC_LOCK is held; and the NSM driver answers
     * its raw ioctl only with CAP_SYS_ADMIN (uapi/linux/nsm.h). Keep those
     * (and nothing else) across the change of user. The seccomp filter that
     * follows still refuses every call CAP_SYS_ADMIN would otherwise open
     * (mount, bpf, ...), and no other ioctl than the NSM request. */
    uint32_t keep = (all_locked ? 1u << CAP_IPC_LOCK : 0) | (keep_nsm ? 1u << CAP_SYS_ADMIN : 0);
    if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return -1;
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
        pa_log_error("cannot drop root to %s: %s", user, strerror(errno));
        return -1;
    }
    if (keep != 0) {
        /* Both capabilities are below 32: data[0] holds them. */
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof data);
        data[0].permitted = keep;
        data[0].effective = keep;
        if (syscall(SYS_capset, &hdr, data) != 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
            pa_log_error("cannot limit capabilities to %s: %s",
                         keep_nsm ? "CAP_IPC_LOCK and CAP_SYS_ADMIN" : "CAP_IPC_LOCK", strerror(errno));
            return -1;
        }
    }
    /* Proof that root is gone for good; and a credential change resets
     * the dumpable flag, so clear it again. */
    if (setuid(0) == 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        pa_log_error("privilege drop did not stick");
        return -1;
    }
    if (pdeath != 0 && (prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) != 0 || getppid() != parent)) {
        pa_log_error("the supervisor is gone");
        return -1;
    }
    pa_log_info("running as %s (uid %u)", user, (unsigned)uid);
    return 0;
}
