/* perfagg-enclave: the trusted process. It creates its keys in its own
 * memory, serves the IPC protocol of docs/IPC.md on a Unix or vsock socket,
 * and is the only code that ever sees credentials in plaintext.
 *
 * Environment: ENCLAVE_ADDR (unix:/path or vsock://CID:PORT; else
 * unix:$PERFAGG_ENCLAVE_SOCKET, unix:var/enclave.sock), PERFAGG_VAR_DIR
 * (var), PERFAGG_ENCLAVE_THREADS (16), PERFAGG_PLATFORM (auto: nitro when
 * /dev/nsm exists, else development; the production enclave is nitro only);
 * the exchange and egress settings are enclave_config.c's (development:
 * BINANCE_BASE_URL, PERFAGG_CA_FILE, PERFAGG_EXCHANGE_TIMEOUT_MS,
 * PERFAGG_EGRESS_RELAY); PERFAGG_ENCLAVE_USER (nobody: the user it drops to
 * when started as root). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "attest_platform.h"
#include "attest_produce.h"
#include "codec.h"
#include "enclave_config.h"
#include "enclave_jobs.h"
#include "enclave_ops.h"
#include "envelope_keys.h"
#include "ipc.h"
#include "ipc_addr.h"
#include "ipc_contract.h"
#include "log.h"
#include "harden.h"
#include "sandbox.h"
#include "secure_alloc.h"
#include "serve.h"

#ifndef PA_ENCLAVE_PRODUCTION
#define PA_ENCLAVE_PRODUCTION 0 /* 1 in the production enclave executable */
#endif

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
    /* aggregate jobs run on threads of their own (enclave_jobs.c) */
    if (pa_harden_process(pa_harden_secure_heap_size(threads + PA_IPC_JOBS_MAX)) != 0)
        return 1;

    const char *var_dir = env_or("PERFAGG_VAR_DIR", "var");
    pa_ipc_addr listen_addr;
    char listen_spec[PA_IPC_ADDR_MAX + 1];
    if (pa_ipc_addr_resolve(getenv("ENCLAVE_ADDR"), getenv("PERFAGG_ENCLAVE_SOCKET"), &listen_addr) != 0 ||
        pa_ipc_addr_format(&listen_addr, listen_spec, sizeof listen_spec) != 0) {
        fprintf(stderr, "perfagg-enclave: ENCLAVE_ADDR must be unix:/path or vsock://CID:PORT\n");
        return 2;
    }
    /* Exchange, trusted roots, timeouts, relay: enclave_config.c decides what the
     * host may choose (nothing that changes a result, in production). */
    static pa_enclave_config cfg;
    char cfg_err[320];
    if (pa_enclave_config_load(&cfg, cfg_err, sizeof cfg_err) != 0) {
        fprintf(stderr, "perfagg-enclave: %s\n", cfg_err);
        return 2;
    }
    enclave.binance_base_url = cfg.binance_base_url;
    enclave.binance_futures_base_url = cfg.binance_futures_base_url;
    enclave.development_build = !cfg.production;
    enclave.exchange_timeout_ms = cfg.exchange_timeout_ms;
    enclave.require_read_only_keys = cfg.require_read_only_keys;
    enclave.weight_budget = cfg.weight_budget;
    enclave.egress = &cfg.egress;

    /* The platform first: on Nitro its entropy is mixed into OpenSSL before
     * the long-term keys are generated. */
    char dev_dir[PATH_MAX], perr[160] = "";
    snprintf(dev_dir, sizeof dev_dir, "%s/dev-attest", var_dir);
    mkdir(var_dir, 0700);
    pa_platform_choice choice;
    if (pa_attest_platform_choice_parse(getenv("PERFAGG_PLATFORM"), &choice) != 0) {
        fprintf(stderr, "perfagg-enclave: PERFAGG_PLATFORM must be nitro, development or auto\n");
        return 2;
    }
#if PA_ENCLAVE_PRODUCTION
    pa_attest_dev_opener dev_open = NULL; /* Nitro only; no development CA code linked */
#else
    pa_attest_dev_opener dev_open = pa_attest_dev_open;
#endif
    enclave.platform = pa_attest_platform_open(choice, PA_NSM_DEVICE, dev_open, dev_dir,
                                               "/proc/self/exe", perr, sizeof perr);
    if (enclave.platform == NULL || pa_attest_platform_seed_rng(enclave.platform) != 0) {
        pa_log_error("attestation platform unavailable: %s", perr[0] ? perr : "entropy failed");
        return 1;
    }
    enclave.dev_platform = pa_attest_platform_is_development(enclave.platform);
    pa_hex_encode(pa_attest_pcr0(enclave.platform), PA_PCR_LEN, enclave.image_hash);

    if (make_keys(&enclave) != 0) {
        pa_log_error("key generation failed");
        return 1;
    }

    int lfd = pa_ipc_listen(&listen_addr, 64, PA_IPC_MODE_OWNER);
    if (lfd < 0) {
        pa_log_error("cannot listen on %s: %s", listen_spec, strerror(errno));
        return 1;
    }

    /* Initialisation is over: no root, no new system calls. */
    if (pa_harden_drop_privileges(env_or("PERFAGG_ENCLAVE_USER", "nobody"),
                                  strcmp(pa_attest_platform_name(enclave.platform), "nitro") == 0) != 0 ||
        pa_sandbox_apply() != 0)
        return 1;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pa_log_info("listening on %s (platform %s, image %.16s..., environment %s, exchange %s)",
                listen_spec, pa_attest_platform_name(enclave.platform), enclave.image_hash,
                enclave.dev_platform || enclave.development_build ? "development" : "production",
                enclave.binance_base_url);
    pa_log_info("egress: %s%s%s", cfg.relay[0] != 0 ? "CONNECT relay " : "direct (no relay)",
                cfg.relay, cfg.egress.bridge ? " (bridged: this libcurl predates 8.0)" : "");
    pa_log_info("enclave_pubkey %s signing_pubkey %s", enclave.enclave_pub_b64,
                enclave.signing_pub_b64);

    pa_serve_config serve = {.listen_fd = lfd, .workers = threads, .idle_timeout_ms = 30000,
                             .handler = handle_frame, .ud = &enclave};
    int served = pa_serve_run(&serve, &stopping, 10000);
    if (served < 0)
        return 1;
    /* aggregate jobs run on threads of their own: joined before the teardown */
    if (served > 0 || pa_enclave_jobs_stop(5000) != 0)
        _exit(0); /* requests still running: exit without tearing down what they use */
    pa_log_info("stopping");
    close(lfd);
    if (listen_addr.kind == PA_IPC_UNIX)
        unlink(listen_addr.path);
    return 0;
}
