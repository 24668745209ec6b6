/* The enclave's configuration (src/enclave/config.c), built twice from this
 * file: test_enclave_config against the development build and
 * test_enclave_config_production against the production build
 * (PA_ENCLAVE_PRODUCTION=1). Beyond what each build accepts from the
 * environment, the connector runs with each build's transport policy against
 * a real TLS simulator (tools/binance_sim.py, a test CA from
 * tools/test-ca.sh): what it trusts, that CA and proxy environment variables
 * change nothing, that production refuses plain HTTP and no build follows a
 * redirect; and both ways to a real perfagg-relay (libcurl's own connection
 * and the in-process bridge). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_child.h"
#include "test_sim.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binance/binance.h"
#include "enclave_config.h"
#include "exchange_hosts.h"
#include "merkle.h"

#ifndef PA_ENCLAVE_PRODUCTION
#define PA_ENCLAVE_PRODUCTION 0
#endif

static char g_dir[64];
static char g_ca[128];
static int g_port;
static pid_t g_sim = -1;
static pid_t g_relay = -1;
static char g_relay_sock[128];

static const char *const all_vars[] = {
    "BINANCE_BASE_URL", "BINANCE_FUTURES_BASE_URL", "PERFAGG_CA_FILE", "PERFAGG_EXCHANGE_TIMEOUT_MS",
    "PERFAGG_EGRESS_RELAY", "PERFAGG_EXCHANGE_WEIGHT_BUDGET", "PERFAGG_REQUIRE_READ_ONLY_KEYS",
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
    "no_proxy", "NO_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", NULL};

static void clean_env(void)
{
    for (size_t i = 0; all_vars[i] != NULL; i++)
        unsetenv(all_vars[i]);
}

/* ---- processes: the test CA and the TLS simulator ----------------------- */

static int run_wait(const char *const argv[])
{
    pid_t pid = pa_test_fork(60);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    pa_test_wait(pid, &status);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_test_config_XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    char ca_dir[96], accounts[128], cert[128], key[128];
    snprintf(ca_dir, sizeof ca_dir, "%s/ca", g_dir);
    snprintf(g_ca, sizeof g_ca, "%s/ca.pem", ca_dir);
    snprintf(cert, sizeof cert, "%s/server.pem", ca_dir);
    snprintf(key, sizeof key, "%s/server.key", ca_dir);
    snprintf(accounts, sizeof accounts, "%s/accounts.json", g_dir);
    const char *const mk[] = {PA_SOURCE_DIR "/tools/test-ca.sh", ca_dir, NULL};
    if (run_wait(mk) != 0)
        return -1;
    FILE *f = fopen(accounts, "w");
    if (f == NULL)
        return -1;
    fputs("{\"accounts\":[{\"api_key\":\"k-ok\",\"api_secret\":\"s-ok\",\"balances\":{\"BTC\":"
          "\"1\"},\"trades\":[{\"symbol\":\"BTCUSDT\",\"id\":1,\"orderId\":7,\"price\":\"60000\","
          "\"qty\":\"0.01\",\"quoteQty\":\"600\",\"commission\":\"0.6\",\"commissionAsset\":"
          "\"USDT\",\"time\":1700000000000,\"isBuyer\":true,\"isMaker\":false,\"isBestMatch\":"
          "true}]},{\"api_key\":\"k-redirect\",\"api_secret\":\"s-redirect\",\"balances\":{},"
          "\"trades\":[],\"fault\":\"redirect\"}]}",
          f);
    fclose(f);
    g_port = pa_test_sim_start(g_dir, accounts, cert, key, &g_sim);
    if (g_port <= 0)
        return -1;
    /* perfagg-relay in front of the simulator, as in make run. */
    char allow[64], relay_log[128], listen_arg[160];
    snprintf(allow, sizeof allow, "localhost:%d", g_port);
    snprintf(g_relay_sock, sizeof g_relay_sock, "%s/relay.sock", g_dir);
    snprintf(listen_arg, sizeof listen_arg, "unix:%s", g_relay_sock);
    snprintf(relay_log, sizeof relay_log, "%s/relay.log", g_dir);
    g_relay = pa_test_fork(600);
    if (g_relay < 0)
        return -1;
    if (g_relay == 0) {
        int fd = open(relay_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(PA_RELAY_BINARY, "perfagg-relay", "--listen", listen_arg, "--dev-allow-local",
              "--allow", allow, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (access(g_relay_sock, F_OK) == 0)
            return 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Tunnels the relay opened so far (its log: one "open to" line each). */
static int relay_tunnels(void)
{
    char path[128], line[512];
    snprintf(path, sizeof path, "%s/relay.log", g_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, ": open to localhost:") != NULL;
    fclose(f);
    return n;
}

static int teardown(void **state)
{
    (void)state;
    if (g_relay > 0) {
        kill(g_relay, SIGTERM);
        pa_test_wait(g_relay, NULL);
    }
    if (g_sim > 0) {
        kill(g_sim, SIGTERM);
        pa_test_wait(g_sim, NULL);
    }
    if (getenv("PA_KEEP_TMP") != NULL) { fprintf(stderr, "kept %s\n", g_dir); return 0; }
    const char *const rm[] = {"/bin/rm", "-rf", g_dir, NULL};
    return run_wait(rm);
}

/* The simulator's log: one line per HTTP request it answered. */
static int sim_requests(void)
{
    char path[128], line[512];
    snprintf(path, sizeof path, "%s/sim.log", g_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, " GET /") != NULL;
    fclose(f);
    return n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

typedef struct {
    pa_audit_log audit;
    pa_exchange_result r;
} run;

static pa_exchange_status fetch(run *x, const pa_enclave_config *c, const pa_egress *g,
                                const char *url, const char *key, const char *secret)
{
    static const char *const syms[] = {"BTCUSDT"};
    pa_exchange_params p = {.base_url = url, .api_key = key, .api_secret = secret,
                           .symbols = syms, .nsymbols = 1, .timeout_ms = 5000, .egress = g};
    (void)c;
    pa_audit_init(&x->audit);
    return pa_binance_connector.fetch(&p, &x->audit, &x->r);
}

static void run_free(run *x)
{
    pa_exchange_result_free(&x->r);
    pa_audit_free(&x->audit);
}

static void assert_detail_has(const run *x, const char *needle)
{
    if (strstr(x->r.detail, needle) == NULL)
        fail_msg("detail \"%s\" lacks \"%s\"", x->r.detail, needle);
}

/* Every variable through which a host could try to change trust or routing,
 * aimed at the test CA and a dead proxy. */
static void hostile_env(void)
{
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < PA_ARRAY_LEN(proxies); i++)
        setenv(proxies[i], "http://127.0.0.1:1", 1);
    setenv("CURL_CA_BUNDLE", g_ca, 1);
    setenv("SSL_CERT_FILE", g_ca, 1);
    char dir[96];
    snprintf(dir, sizeof dir, "%s/ca", g_dir);
    setenv("SSL_CERT_DIR", dir, 1);
}

/* ---- both builds ----------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    clean_env();
    if (PA_ENCLAVE_PRODUCTION)
        setenv("PERFAGG_EGRESS_RELAY", "unix:/run/perfagg/relay.sock", 1);
    pa_enclave_config c;
    char err[320] = "";
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_int_equal(c.production, PA_ENCLAVE_PRODUCTION);
    assert_string_equal(c.binance_base_url, PA_BINANCE_BASE_URL);
    assert_string_equal(c.binance_futures_base_url, PA_BINANCE_FUTURES_BASE_URL);
    assert_int_equal(c.exchange_timeout_ms, PA_ENCLAVE_TIMEOUT_MS_DEFAULT);
    assert_int_equal(c.require_read_only_keys, 1);
    assert_int_equal(c.weight_budget, 0);
    assert_int_equal(c.egress.https_only, PA_ENCLAVE_PRODUCTION);
    assert_int_equal(c.egress.use_relay, PA_ENCLAVE_PRODUCTION);
    clean_env();
}

/* Plain HTTP to the simulator: development fetches; production refuses
 * before a byte is sent. */
static void test_plain_http(void **state)
{
    (void)state;
    clean_env();
    pa_enclave_config c;
    char err[320];
    if (PA_ENCLAVE_PRODUCTION)
        setenv("PERFAGG_EGRESS_RELAY", "unix:/nonexistent", 1);
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    pa_egress g = c.egress;
    g.use_relay = 0; /* the relay has its own tests; here only the policy */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", g_port);
    int before = sim_requests();
    run x = {0};
    pa_exchange_status st = fetch(&x, &c, &g, url, "k-ok", "s-ok");
    /* The simulator speaks TLS: in development, curl gets a non-HTTP answer. */
    assert_int_not_equal(st, PA_EXCHANGE_OK);
    if (PA_ENCLAVE_PRODUCTION) {
        assert_int_equal(st, PA_EXCHANGE_UNAVAILABLE);
        assert_detail_has(&x, "Unsupported protocol");
        assert_int_equal(sim_requests(), before);
    }
    run_free(&x);
    clean_env();
}

/* The build's own roots do not include the test CA, whatever the environment
 * says: the handshake fails and no request reaches the simulator. */
static void test_env_cannot_add_trust(void **state)
{
    (void)state;
    clean_env();
    if (PA_ENCLAVE_PRODUCTION)
        setenv("PERFAGG_EGRESS_RELAY", "unix:/nonexistent", 1);
    pa_enclave_config c;
    char err[320];
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    hostile_env();
    pa_egress g = c.egress;
    g.use_relay = 0;
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%d", g_port);
    int before = sim_requests();
    run x = {0};
    assert_int_equal(fetch(&x, &c, &g, url, "k-ok", "s-ok"), PA_EXCHANGE_UNAVAILABLE);
    assert_detail_has(&x, "certificate");
    assert_int_equal(sim_requests(), before);
    run_free(&x);
    clean_env();
}

/* With the test CA as the only root (production: in place of the embedded
 * bundle; development: PERFAGG_CA_FILE), the fetch works even though every
 * proxy variable points at a dead port: they are ignored. A redirect is
 * answered as an error, never followed. */
static void test_trusted_root_and_proxy_env_ignored(void **state)
{
    (void)state;
    clean_env();
    pa_enclave_config c;
    char err[320];
    size_t ca_len = 0;
    char *ca_pem = NULL;
    if (PA_ENCLAVE_PRODUCTION) {
        setenv("PERFAGG_EGRESS_RELAY", "unix:/nonexistent", 1);
        ca_pem = read_file(g_ca, &ca_len);
    } else {
        setenv("PERFAGG_CA_FILE", g_ca, 1);
    }
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    pa_egress g = c.egress;
    g.use_relay = 0;
    if (PA_ENCLAVE_PRODUCTION) {
        g.ca_blob = (const unsigned char *)ca_pem;
        g.ca_blob_len = ca_len;
    }
    clean_env();
    hostile_env();
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%d", g_port);
    run x = {0};
    pa_exchange_status st = fetch(&x, &c, &g, url, "k-ok", "s-ok");
    if (st != PA_EXCHANGE_OK)
        fail_msg("fetch failed: %s", x.r.detail);
    assert_int_equal(x.r.fills.len, 1);
    run_free(&x);

    run y = {0};
    assert_int_equal(fetch(&y, &c, &g, url, "k-redirect", "s-redirect"),
                     PA_EXCHANGE_BAD_RESPONSE);
    assert_detail_has(&y, "HTTP 302");
    run_free(&y);
    free(c.ca_pem); /* the enclave keeps it for its lifetime */
    clean_env();
}

/* The build's policy with the test CA as its root, through the real relay:
 * curl's own connection to it, and the bridge (what a vsock relay uses with
 * libcurl < 8.0; here towards a Unix relay, the only transport this machine
 * has). Each opens a tunnel and fetches over TLS inside it. */
static void test_through_the_relay(void **state)
{
    (void)state;
    clean_env();
    pa_enclave_config c;
    char err[320], relay[160];
    snprintf(relay, sizeof relay, "unix:%s", g_relay_sock);
    setenv("PERFAGG_EGRESS_RELAY", relay, 1);
    size_t ca_len = 0;
    char *ca_pem = NULL;
    if (PA_ENCLAVE_PRODUCTION)
        ca_pem = read_file(g_ca, &ca_len);
    else
        setenv("PERFAGG_CA_FILE", g_ca, 1);
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_int_equal(c.egress.use_relay, 1);
    assert_int_equal(c.egress.bridge, 0);
    if (PA_ENCLAVE_PRODUCTION) {
        c.egress.ca_blob = (const unsigned char *)ca_pem;
        c.egress.ca_blob_len = ca_len;
    }
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%d", g_port);
    for (int bridge = 0; bridge < 2; bridge++) {
        pa_egress g = c.egress;
        g.bridge = bridge;
        int before = relay_tunnels();
        run x = {0};
        pa_exchange_status st = fetch(&x, &c, &g, url, "k-ok", "s-ok");
        if (st != PA_EXCHANGE_OK)
            fail_msg("bridge=%d: %s", bridge, x.r.detail);
        assert_int_equal(x.r.fills.len, 1);
        run_free(&x);
        /* The run went through the relay (curl may or may not reuse its
         * connection for the later calls — apiRestrictions, exchangeInfo,
         * myTrades — so one tunnel to three). */
        for (int i = 0; i < 100 && relay_tunnels() == before; i++) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        int opened = relay_tunnels() - before;
        if (opened < 1 || opened > 3)
            fail_msg("bridge=%d: %d tunnels for one run", bridge, opened);
    }
    free(c.ca_pem); /* the enclave keeps it for its lifetime */
    clean_env();
}

#if PA_ENCLAVE_PRODUCTION
/* ---- production only ------------------------------------------------------- */

static void test_production_refuses_overrides(void **state)
{
    (void)state;
    for (size_t i = 0; pa_enclave_config_refused[i] != NULL; i++) {
        static const char *const values[] = {"http://127.0.0.1:1", ""};
        for (size_t v = 0; v < PA_ARRAY_LEN(values); v++) {
            clean_env();
            setenv("PERFAGG_EGRESS_RELAY", "unix:/run/perfagg/relay.sock", 1);
            setenv(pa_enclave_config_refused[i], values[v], 1);
            pa_enclave_config c;
            char err[320] = "";
            assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), -1);
            if (strstr(err, pa_enclave_config_refused[i]) == NULL)
                fail_msg("message \"%s\" does not name %s", err, pa_enclave_config_refused[i]);
        }
    }
    clean_env();
}

/* libcurl and OpenSSL read these whatever egress.c sets: SSLKEYLOGFILE would
 * write every TLS session secret where the host can read it (and decrypt
 * what the relay carries), OPENSSL_CONF would load a host-chosen OpenSSL
 * configuration (provider or engine modules, TLS defaults). Named literally,
 * so a shortened table cannot make this pass. */
static void test_production_refuses_tls_env(void **state)
{
    (void)state;
    static const char *const names[] = {"SSLKEYLOGFILE", "OPENSSL_CONF"};
    for (size_t i = 0; i < PA_ARRAY_LEN(names); i++) {
        clean_env();
        setenv("PERFAGG_EGRESS_RELAY", "unix:/run/perfagg/relay.sock", 1);
        setenv(names[i], "/tmp/pa-evil", 1);
        pa_enclave_config c;
        char err[320] = "";
        assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), -1);
        if (strstr(err, names[i]) == NULL)
            fail_msg("message \"%s\" does not name %s", err, names[i]);
        unsetenv(names[i]);
    }
    clean_env();
}

static void test_production_embedded_roots(void **state)
{
    (void)state;
    clean_env();
    setenv("PERFAGG_EGRESS_RELAY", "tcp://127.0.0.1:8443", 1);
    pa_enclave_config c;
    char err[320];
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_non_null(c.egress.ca_blob);
    /* Debian's Mozilla bundle: over a hundred roots, PEM. */
    assert_true(c.egress.ca_blob_len > 100000);
    assert_memory_equal(c.egress.ca_blob, "-----BEGIN CERTIFICATE-----", 27);
    assert_null(c.egress.ca_file);
    assert_int_equal(c.egress.use_relay, 1);
    clean_env();
}

/* The default relay is the parent's vsock port, bridged when libcurl cannot
 * take a connected vsock socket. */
static void test_production_default_relay(void **state)
{
    (void)state;
    clean_env();
    pa_enclave_config c;
    char err[320] = "";
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.relay, PA_ENCLAVE_RELAY_DEFAULT_PRODUCTION);
    assert_int_equal(c.egress.relay.kind, PA_IPC_VSOCK);
    assert_int_equal(c.egress.use_relay, 1);
    assert_int_equal(c.egress.bridge, !pa_egress_vsock_supported());
}
#else
/* ---- development only ------------------------------------------------------ */

static void test_development_overrides(void **state)
{
    (void)state;
    clean_env();
    setenv("BINANCE_BASE_URL", "http://127.0.0.1:9/", 1);
    setenv("PERFAGG_EXCHANGE_TIMEOUT_MS", "3000", 1);
    setenv("PERFAGG_EXCHANGE_WEIGHT_BUDGET", "480000", 1);
    char ca_path[] = "/tmp/pa-test-ca.XXXXXX";
    int ca_fd = mkstemp(ca_path);
    assert_true(ca_fd >= 0);
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nnot parsed here\n";
    assert_int_equal(write(ca_fd, pem, sizeof pem - 1), (ssize_t)(sizeof pem - 1));
    close(ca_fd);
    setenv("PERFAGG_CA_FILE", ca_path, 1);
    setenv("PERFAGG_EGRESS_RELAY", "unix:/tmp/relay.sock", 1);
    pa_enclave_config c;
    char err[320];
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.binance_base_url, "http://127.0.0.1:9");
    /* Unset: the futures URL follows the spot one (the simulator serves both). */
    assert_string_equal(c.binance_futures_base_url, "http://127.0.0.1:9");
    assert_int_equal(c.exchange_timeout_ms, 3000);
    assert_int_equal(c.require_read_only_keys, 1);
    assert_int_equal(c.weight_budget, 480000);
    /* Read at start-up: the blob is the file's bytes, the path no longer used. */
    assert_null(c.egress.ca_file);
    assert_int_equal(c.egress.ca_blob_len, sizeof pem - 1);
    assert_memory_equal(c.egress.ca_blob, pem, sizeof pem - 1);
    unlink(ca_path);
    assert_int_equal(c.egress.use_relay, 1);
    assert_int_equal(c.egress.relay.kind, PA_IPC_UNIX);
    /* the enclave keeps it for its lifetime; the test loads again below */
    free(c.ca_pem);

    static const char *const bad[][2] = {
        {"PERFAGG_EXCHANGE_TIMEOUT_MS", "99"}, {"PERFAGG_EXCHANGE_TIMEOUT_MS", "1e3"},
        {"PERFAGG_EXCHANGE_WEIGHT_BUDGET", "0"}, {"PERFAGG_EXCHANGE_WEIGHT_BUDGET", "4800x"},
        {"PERFAGG_EGRESS_RELAY", "127.0.0.1:8443"}, {"PERFAGG_EGRESS_RELAY", "tcp://localhost:1"},
        {"BINANCE_BASE_URL", "////"}, {"BINANCE_FUTURES_BASE_URL", "///"},
        {"PERFAGG_CA_FILE", "/nonexistent/ca.pem"}, {"PERFAGG_REQUIRE_READ_ONLY_KEYS", "no"}};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        clean_env();
        setenv(bad[i][0], bad[i][1], 1);
        char e[320] = "";
        assert_int_equal(pa_enclave_config_load(&c, e, sizeof e), -1);
        if (strstr(e, bad[i][0]) == NULL)
            fail_msg("message \"%s\" does not name %s", e, bad[i][0]);
    }
    /* REQUIRE_READ_ONLY_KEYS may be turned off in development only */
    clean_env();
    setenv("PERFAGG_REQUIRE_READ_ONLY_KEYS", "0", 1);
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_int_equal(c.require_read_only_keys, 0);
    clean_env();
    setenv("BINANCE_BASE_URL", "http://127.0.0.1:9", 1);
    setenv("BINANCE_FUTURES_BASE_URL", "http://127.0.0.1:10//", 1);
    assert_int_equal(pa_enclave_config_load(&c, err, sizeof err), 0);
    assert_string_equal(c.binance_futures_base_url, "http://127.0.0.1:10");
    assert_string_equal(c.binance_base_url, "http://127.0.0.1:9");
    clean_env();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_plain_http),
        cmocka_unit_test(test_env_cannot_add_trust),
        cmocka_unit_test(test_trusted_root_and_proxy_env_ignored),
        cmocka_unit_test(test_through_the_relay),
#if PA_ENCLAVE_PRODUCTION
        cmocka_unit_test(test_production_refuses_overrides),
        cmocka_unit_test(test_production_refuses_tls_env),
        cmocka_unit_test(test_production_embedded_roots),
        cmocka_unit_test(test_production_default_relay),
#else
        cmocka_unit_test(test_development_overrides),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
