/* perfagg-enclave: the trusted process. It creates its keys in its own
 * memory, serves the IPC protocol of docs/IPC.md on a Unix socket, and is the
 * only code that ever sees credentials in plaintext.
 *
 * Environment: PERFAGG_ENCLAVE_SOCKET (var/enclave.sock), PERFAGG_VAR_DIR
 * (var), BINANCE_BASE_URL (https://api.binance.com), PERFAGG_ENCLAVE_THREADS
 * (16), PERFAGG_EXCHANGE_TIMEOUT_MS (15000), PERFAGG_ENCLAVE_USER (nobody: the
 * user it drops to when started as root). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "attest.h"
#include "codec.h"
#include "enclave_ops.h"
#include "envelope.h"
#include "ipc.h"
#include "log.h"
#include "harden.h"
#include "sandbox.h"
#include "secure_alloc.h"
#include "serve.h"

static volatile sig_atomic_t stopping;
static pa_enclave enclave;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v != NULL && *v != 0 ? v : fallback;
}

static long env_long(const char *name, long fallback, long lo, long hi)
{
    const char *v = getenv(name);
    if (v == NULL || *v == 0)
        return fallback;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *end != 0 || n < lo || n > hi) {
        fprintf(stderr, "perfagg-enclave: %s must be an integer in [%ld, %ld]\n", name, lo, hi);
        exit(2);
    }
    return n;
}

static char *handle_frame(void *ud, const char *req, size_t len)
{
    return pa_enclave_handle(ud, req, len);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        pa_log_error("socket path too long: %s", path);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    /* Only the owning user (the host) may connect. */
    mode_t old = umask(0077);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    umask(old);
    if (rc != 0 || listen(fd, 64) != 0) {
        pa_log_error("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int make_keys(pa_enclave *e)
{
    e->envelope_key = pa_x25519_generate();
    e->signing_key = pa_ed25519_generate();
    PA_ENSURE(e->envelope_key != NULL && e->signing_key != NULL);
    PA_GUARD(pa_raw_public_key(e->envelope_key, e->enclave_pub));
    PA_GUARD(pa_raw_public_key(e->signing_key, e->signing_pub));
    e->enclave_pub_b64 = pa_b64_encode(e->enclave_pub, 32);
    e->signing_pub_b64 = pa_b64_encode(e->signing_pub, 32);
    PA_ENSURE(e->enclave_pub_b64 != NULL && e->signing_pub_b64 != NULL);
    return 0;
}

int main(void)
{
    pa_log_set_component("enclave");
    if (pa_secure_alloc_install() != 0) {
        fprintf(stderr, "perfagg-enclave: allocator set-up failed\n");
        return 1;
    }
    long threads = env_long("PERFAGG_ENCLAVE_THREADS", 16, 1, 1024);
    if (pa_harden_process(pa_harden_secure_heap_size(threads)) != 0)
        return 1;

    const char *var_dir = env_or("PERFAGG_VAR_DIR", "var");
    const char *sock_path = env_or("PERFAGG_ENCLAVE_SOCKET", "var/enclave.sock");
    const char *url = getenv("BINANCE_BASE_URL");
    enclave.url_override = url != NULL && *url != 0;
    static char base_url[512];
    snprintf(base_url, sizeof base_url, "%s", enclave.url_override ? url : "https://api.binance.com");
    size_t ul = strlen(base_url);
    while (ul > 0 && base_url[ul - 1] == '/')
        base_url[--ul] = 0;
    enclave.binance_base_url = base_url;
    enclave.exchange_timeout_ms = env_long("PERFAGG_EXCHANGE_TIMEOUT_MS", 15000, 100, 600000);

    if (make_keys(&enclave) != 0) {
        pa_log_error("key generation failed");
        return 1;
    }
    char dev_dir[PATH_MAX];
    snprintf(dev_dir, sizeof dev_dir, "%s/dev-attest", var_dir);
    mkdir(var_dir, 0700);
    enclave.platform = pa_attest_dev_open(dev_dir, "/proc/self/exe");
    if (enclave.platform == NULL) {
        pa_log_error("attestation platform unavailable (%s)", dev_dir);
        return 1;
    }
    enclave.dev_platform = 1;
    pa_hex_encode(pa_attest_pcr0(enclave.platform), PA_PCR_LEN, enclave.image_hash);

    int lfd = listen_unix(sock_path);
    if (lfd < 0)
        return 1;

    /* Initialisation is over: no root, no new system calls. */
    if (pa_harden_drop_privileges(env_or("PERFAGG_ENCLAVE_USER", "nobody")) != 0 ||
        pa_sandbox_apply() != 0)
        return 1;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pa_log_info("listening on %s (image %.16s..., environment %s, exchange %s)", sock_path,
                enclave.image_hash, enclave.dev_platform || enclave.url_override ? "development" : "production",
                enclave.binance_base_url);
    pa_log_info("enclave_pubkey %s signing_pubkey %s", enclave.enclave_pub_b64,
                enclave.signing_pub_b64);

    pa_serve_config serve = {.listen_fd = lfd, .workers = threads, .idle_timeout_ms = 30000,
                             .handler = handle_frame, .ud = &enclave};
    int served = pa_serve_run(&serve, &stopping, 10000);
    if (served < 0)
        return 1;
    if (served > 0)
        _exit(0); /* requests still running: exit without tearing down what they use */
    pa_log_info("stopping");
    close(lfd);
    unlink(sock_path);
    return 0;
}
