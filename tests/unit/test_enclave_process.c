/* The enclave process around its handlers: hardening (harden.c), the seccomp
 * allow-list (sandbox.c) and the epoll request server (serve.c). Everything
 * that changes the process (filters, privilege drop, mlock) runs in a forked
 * child, so the test process itself stays unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "credentials.h"
#include "envelope_keys.h"
#include "harden.h"
#include "ipc.h"
#include "sandbox.h"
#include "serve.h"
#include "test_child.h"

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(void))
{
    pid_t pid = pa_test_fork(20);
    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(pa_test_wait(pid, &status), pid);
    return status;
}

static void assert_killed_by_sigsys(int status)
{
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_exit_0(int status)
{
    if (!WIFEXITED(status))
        fail_msg("child died with signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Child bodies: _exit(n) with n > 0 names the step that went wrong. */
#define CHECK(cond, n) \
    do {               \
        if (!(cond))   \
            _exit(n);  \
    } while (0)

/* --- hardening ---------------------------------------------------------- */

static void child_harden(void)
{
    CHECK(pa_harden_process(pa_harden_secure_heap_size(16)) == 0, 10);
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, 11);
    struct rlimit r;
    CHECK(getrlimit(RLIMIT_CORE, &r) == 0 && r.rlim_cur == 0 && r.rlim_max == 0, 12);
    CHECK(CRYPTO_secure_malloc_initialized() == 1, 13);

    /* OpenSSL puts X25519 and Ed25519 private keys into the secure heap
     * (measured after a first round, which sets up OpenSSL's own state). */
    EVP_PKEY_free(EVP_PKEY_Q_keygen(NULL, NULL, "X25519"));
    EVP_PKEY_free(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
    size_t before = CRYPTO_secure_used();
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    CHECK(x != NULL && ed != NULL, 14);
    CHECK(CRYPTO_secure_used() >= before + 64, 15);
    EVP_PKEY_free(x);
    EVP_PKEY_free(ed);
    CHECK(CRYPTO_secure_used() == before, 16);

    /* The decrypted API key and secret are copied straight into it. */
    const char *plain = "{\"exchange\":\"binance\",\"apiKey\":\"AK\",\"apiSecret\":\"SECRET\"}";
    pa_buf b;
    pa_buf_init(&b, 4096);
    CHECK(pa_buf_append_str(&b, plain) == 0, 17);
    pa_credentials c;
    CHECK(pa_credentials_parse(&b, "binance", &c) == 0, 18);
    CHECK(CRYPTO_secure_allocated(c.api_key) && CRYPTO_secure_allocated(c.api_secret) &&
              CRYPTO_secure_allocated(c.exchange),
          19);
    /* (OpenSSL 3.0's HMAC keeps its key schedule in the ordinary heap, not
     * here: docs/SECURITY.md says so.) */
    pa_credentials_free(&c);
    pa_buf_free(&b);
    CHECK(CRYPTO_secure_used() == before, 22);
}

static void test_harden(void **state)
{
    (void)state;
    assert_exit_0(in_child(child_harden));
}

static void test_heap_size(void **state)
{
    (void)state;
    assert_int_equal(pa_harden_secure_heap_size(1), 1u << 20);
    assert_int_equal(pa_harden_secure_heap_size(16), 1u << 20);
    assert_int_equal(pa_harden_secure_heap_size(1024), 16u << 20);
}

static void child_drop(void)
{
    CHECK(pa_harden_process(pa_harden_secure_heap_size(1)) == 0, 9);
    CHECK(pa_harden_drop_privileges("nobody", 0) == 0, 10);
    if (geteuid() == 0 || getuid() == 0)
        _exit(11);
    CHECK(setuid(0) != 0 && errno == EPERM, 12);
    /* Only CAP_IPC_LOCK may survive (when memory is locked), so
     * allocations under mlockall(MCL_FUTURE) keep working past RLIMIT_MEMLOCK. */
    FILE *st = fopen("/proc/self/status", "r");
    CHECK(st != NULL, 14);
    char line[256];
    unsigned long long eff = ~0ull;
    while (fgets(line, sizeof line, st) != NULL)
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    fclose(st);
    CHECK((eff & ~(1ull << 14)) == 0, 15); /* CAP_IPC_LOCK is 14 */
    void *big = malloc(64u << 20);
    CHECK(big != NULL, 16);
    memset(big, 1, 64u << 20);
    free(big);
    CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 || getenv("PA_NOT_ROOT") != NULL, 13);
}

/* On Nitro the NSM's raw ioctl needs CAP_SYS_ADMIN: kept with keep_nsm, and
 * nothing else beside CAP_IPC_LOCK. */
static void child_drop_nsm(void)
{
    CHECK(pa_harden_process(pa_harden_secure_heap_size(1)) == 0, 9);
    CHECK(pa_harden_drop_privileges("nobody", 1) == 0, 10);
    CHECK(geteuid() != 0 && getuid() != 0, 11);
    FILE *st = fopen("/proc/self/status", "r");
    CHECK(st != NULL, 14);
    char line[256];
    unsigned long long eff = 0;
    while (fgets(line, sizeof line, st) != NULL)
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    fclose(st);
    CHECK((eff & (1ull << 21)) != 0, 15);                      /* CAP_SYS_ADMIN is 21 */
    CHECK((eff & ~((1ull << 14) | (1ull << 21))) == 0, 16);    /* and CAP_IPC_LOCK at most */
}

static void test_drop_privileges_keeps_nsm_capability(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    assert_exit_0(in_child(child_drop_nsm));
}

static void test_drop_privileges(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        assert_int_equal(pa_harden_drop_privileges("nobody", 0), 0); /* a no-op */
        skip();
    }
    assert_exit_0(in_child(child_drop));
}

static void child_drop_to_root_refused(void)
{
    CHECK(pa_harden_drop_privileges("root", 0) == -1, 10);
    CHECK(pa_harden_drop_privileges("no-such-user-perfagg", 1) == -1, 11);
}

static void test_drop_privileges_refuses_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    assert_exit_0(in_child(child_drop_to_root_refused));
}

/* --- the seccomp allow-list --------------------------------------------- */

static void load(void)
{
    if (pa_sandbox_load() != 0)
        _exit(99);
}

static void child_packet_socket(void)
{
    load();
    socket(AF_PACKET, SOCK_RAW, 0);
    _exit(1); /* reached only if the filter let it through */
}

static void child_execve(void)
{
    load();
    char *argv[] = {"/bin/true", NULL};
    char *envp[] = {NULL};
    execve("/bin/true", argv, envp);
    _exit(1);
}

static void child_ptrace(void)
{
    load();
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    _exit(1);
}

static void child_fork(void)
{
    load();
    pid_t p = fork(); /* clone without CLONE_THREAD */
    if (p == 0)
        _exit(0);
    _exit(1);
}

static void child_open_for_writing(void)
{
    load();
    open("/tmp/pa-sandbox-should-not-exist", O_WRONLY | O_CREAT, 0600);
    _exit(1);
}

static void child_setuid(void)
{
    load();
    if (setuid(0) != 0)
        _exit(2);
    _exit(1);
}

static void child_ioctl(void)
{
    load();
    int flag = 1;
    ioctl(0, FIONBIO, &flag); /* any ioctl but FIONREAD and the NSM request */
    _exit(1);
}

static void test_forbidden_calls_kill(void **state)
{
    (void)state;
    assert_killed_by_sigsys(in_child(child_packet_socket));
    assert_killed_by_sigsys(in_child(child_execve));
    assert_killed_by_sigsys(in_child(child_ptrace));
    assert_killed_by_sigsys(in_child(child_fork));
    assert_killed_by_sigsys(in_child(child_open_for_writing));
    assert_killed_by_sigsys(in_child(child_setuid));
    assert_killed_by_sigsys(in_child(child_ioctl));
}

static void *thread_main(void *arg)
{
    *(int *)arg = 42;
    return NULL;
}

/* What the enclave does after initialisation still works under the filter. */
static void child_allowed(void)
{
    load();
    errno = 0;
    CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS, 10);
    int v = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, &v) == 0, 11);
    CHECK(pthread_join(t, NULL) == 0 && v == 42, 12);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0, 13);
    int pending = -1;
    CHECK(ioctl(s, FIONREAD, &pending) == 0 && pending == 0, 18);
    close(s);
    int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0, 14);
    char b[16];
    CHECK(read(fd, b, sizeof b) >= 0, 15);
    close(fd);
    unsigned char r[16];
    CHECK(getrandom(r, sizeof r, 0) == (ssize_t)sizeof r, 16);
    void *p = malloc(1 << 20); /* mmap */
    CHECK(p != NULL, 17);
    free(p);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PA_SANITIZED 1
#endif

static void test_allowed_calls_work(void **state)
{
    (void)state;
#ifdef PA_SANITIZED
    skip(); /* the sanitizer runtime makes calls the enclave does not (it runs unfiltered) */
#endif
    assert_exit_0(in_child(child_allowed));
}

/* --- the epoll server ----------------------------------------------------- */

typedef struct {
    char path[108];
    int lfd;
    pthread_t thread;
    volatile sig_atomic_t stop;
    pa_serve_config cfg;
    int rc;
} serve_fixture;

static char *echo(void *ud, const char *req, size_t len)
{
    (void)ud;
    if (len == 5 && memcmp(req, "sleep", 5) == 0)
        usleep(300 * 1000);
    char *r = malloc(len + 6);
    if (r != NULL)
        snprintf(r, len + 6, "echo:%s", req);
    return r;
}

static void *serve_thread(void *arg)
{
    serve_fixture *f = arg;
    f->rc = pa_serve_run(&f->cfg, &f->stop, 5000);
    return NULL;
}

static void serve_start(serve_fixture *f, long workers, int idle_ms, unsigned max_conns)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/pa-serve-%d.sock", (int)getpid());
    unlink(f->path);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, f->path, strlen(f->path) + 1);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 512), 0);
    f->cfg = (pa_serve_config){.listen_fd = f->lfd,
                               .workers = workers,
                               .idle_timeout_ms = idle_ms,
                               .max_connections = max_conns,
                               .handler = echo};
    assert_int_equal(pthread_create(&f->thread, NULL, serve_thread, f), 0);
}

static void serve_stop(serve_fixture *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
    assert_int_equal(f->rc, 0);
    close(f->lfd);
    unlink(f->path);
}

static int dial(const serve_fixture *f)
{
    int fd = pa_ipc_connect(f->path, 10000); /* a bound against hanging, not a timing target */
    assert_true(fd >= 0);
    return fd;
}

static void round_trip(int fd, const char *req)
{
    assert_int_equal(pa_ipc_write_frame(fd, req, strlen(req)), 0);
    pa_buf b;
    pa_buf_init(&b, PA_IPC_MAX_FRAME);
    assert_int_equal(pa_ipc_read_frame(fd, &b), 0);
    char want[256];
    snprintf(want, sizeof want, "echo:%s", req);
    assert_string_equal(pa_buf_cstr(&b), want);
    pa_buf_free(&b);
}

#define IDLE_CONNS 200

/* 200 idle connections and 20 that sent half a frame do not keep a new
 * request (with 4 workers) from being answered; old connections are still
 * served afterwards. With a thread per connection and 16 slots the new
 * connection would wait for a slot until the read timeout. */
static void test_idle_connections_do_not_starve(void **state)
{
    (void)state;
    struct rlimit nofile;
    getrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < 2 * IDLE_CONNS + 64) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    serve_fixture f;
    serve_start(&f, 4, 60000, 0);
    int idle[IDLE_CONNS], partial[20];
    for (int i = 0; i < IDLE_CONNS; i++)
        idle[i] = dial(&f);
    for (int i = 0; i < 20; i++) {
        partial[i] = dial(&f);
        const uint8_t half[] = {0, 0, 0, 100, '{', '"'}; /* promises 100 bytes, sends 2 */
        assert_int_equal(send(partial[i], half, sizeof half, MSG_NOSIGNAL), (ssize_t)sizeof half);
    }
    int fd = dial(&f);
    round_trip(fd, "{\"op\":\"info\"}");
    round_trip(fd, "again on the same connection");
    close(fd);
    round_trip(idle[0], "an old idle one");
    round_trip(idle[IDLE_CONNS - 1], "the newest idle one");
    for (int i = 0; i < IDLE_CONNS; i++)
        close(idle[i]);
    for (int i = 0; i < 20; i++)
        close(partial[i]);
    serve_stop(&f);
}

/* Requests on many connections at once, more than workers: all answered. */
static void test_more_requests_than_workers(void **state)
{
    (void)state;
    serve_fixture f;
    serve_start(&f, 2, 60000, 0);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = dial(&f);
        assert_int_equal(pa_ipc_write_frame(fds[i], "sleep", 5), 0);
    }
    for (int i = 0; i < 8; i++) {
        pa_buf b;
        pa_buf_init(&b, 1024);
        assert_int_equal(pa_ipc_read_frame(fds[i], &b), 0);
        assert_string_equal(pa_buf_cstr(&b), "echo:sleep");
        pa_buf_free(&b);
        close(fds[i]);
    }
    serve_stop(&f);
}

static int closed_by_server(int fd)
{
    char c;
    return recv(fd, &c, 1, 0) == 0; /* EOF (the 10 s receive timeout would fail) */
}

static void test_idle_timeout_closes(void **state)
{
    (void)state;
    serve_fixture f;
    serve_start(&f, 1, 300, 0);
    int idle = dial(&f);
    int partial = dial(&f);
    const uint8_t half[] = {0, 0, 0, 9, 'x'};
    assert_int_equal(send(partial, half, sizeof half, MSG_NOSIGNAL), (ssize_t)sizeof half);
    assert_true(closed_by_server(idle));
    assert_true(closed_by_server(partial));
    close(idle);
    close(partial);
    serve_stop(&f);
}

/* At the cap the longest-idle connection makes room for a new one. */
static void test_cap_evicts_longest_idle(void **state)
{
    (void)state;
    serve_fixture f;
    serve_start(&f, 1, 60000, 4);
    int old[4];
    for (int i = 0; i < 4; i++) {
        old[i] = dial(&f);
        usleep(20 * 1000);
    }
    round_trip(old[3], "keeps the newest busy"); /* not the victim */
    int fd = dial(&f);
    round_trip(fd, "admitted");
    assert_true(closed_by_server(old[0]));
    round_trip(old[3], "still here");
    for (int i = 0; i < 4; i++)
        close(old[i]);
    close(fd);
    serve_stop(&f);
}

static void test_oversized_frame_closes(void **state)
{
    (void)state;
    serve_fixture f;
    serve_start(&f, 1, 60000, 0);
    int fd = dial(&f);
    uint32_t too_big = PA_IPC_MAX_FRAME + 1;
    const uint8_t hdr[] = {(uint8_t)(too_big >> 24), (uint8_t)(too_big >> 16),
                           (uint8_t)(too_big >> 8), (uint8_t)too_big};
    assert_int_equal(send(fd, hdr, 4, MSG_NOSIGNAL), 4);
    assert_true(closed_by_server(fd));
    close(fd);
    int ok = dial(&f);
    round_trip(ok, "");
    close(ok);
    serve_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_size),
        cmocka_unit_test(test_harden),
        cmocka_unit_test(test_drop_privileges),
        cmocka_unit_test(test_drop_privileges_keeps_nsm_capability),
        cmocka_unit_test(test_drop_privileges_refuses_root),
        cmocka_unit_test(test_forbidden_calls_kill),
        cmocka_unit_test(test_allowed_calls_work),
        cmocka_unit_test(test_idle_connections_do_not_starve),
        cmocka_unit_test(test_more_requests_than_workers),
        cmocka_unit_test(test_idle_timeout_closes),
        cmocka_unit_test(test_cap_evicts_longest_idle),
        cmocka_unit_test(test_oversized_frame_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
