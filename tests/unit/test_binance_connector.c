/* The Binance connector (src/exchanges/binance/), as the enclave reaches it
 * through the registry: the signer against Binance's documented example, then
 * its fetch against a real simulator process (tools/binance_sim.py) over
 * a real socket — paging, de-duplication, symbol derivation, and every failure
 * class the enclave maps to an HTTP status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_dec.h"

#include "test_child.h"
#include "test_sim.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "account_id.h"
#include "binance.h"
#include "account.h"
#include "transport.h" /* pa_binance_sign */
#include "merkle.h"
#include "pacing.h"
#include "paging.h" /* PA_BN_MAX_SYMBOLS */
#include "registry.h"

#define TIMEOUT_MS 5000L

/* RFC 8032's test 1 key pair, registered at the simulator for k-ed25519, and
 * test 2's private key (another key: its signatures must be refused). */
#define ED25519_PUB_PEM                                                                            \
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"   \
    "-----END PUBLIC KEY-----\n"
#define ED25519_PRIV_PEM                                                                           \
    "-----BEGIN PRIVATE KEY-----\n"                                                               \
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"                          \
    "-----END PRIVATE KEY-----\n"
#define ED25519_OTHER_PRIV_PEM                                                                     \
    "-----BEGIN PRIVATE KEY-----\n"                                                               \
    "MC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n"                          \
    "-----END PRIVATE KEY-----\n"

static char g_base_url[64];
static pa_test_sim g_sim = {.pid = -1};

/* ---- the simulator's accounts -------------------------------------------- */

static int64_t g_t0; /* trade times: a fixed point in the past */

static json_t *trade(const char *symbol, int64_t id, double price, double qty, double fee,
                     const char *fee_asset, int is_buyer)
{
    char p[32], q[32], qq[32], f[32];
    snprintf(p, sizeof p, "%.8f", price);
    snprintf(q, sizeof q, "%.8f", qty);
    snprintf(qq, sizeof qq, "%.8f", price * qty);
    snprintf(f, sizeof f, "%.8f", fee);
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:b,s:b}", "symbol", symbol, "id",
                     (json_int_t)id, "orderId", (json_int_t)(id + 100000), "price", p, "qty", q,
                     "quoteQty", qq, "commission", f, "commissionAsset", fee_asset, "time",
                     (json_int_t)(g_t0 + id * 1000), "isBuyer", is_buyer, "isMaker", 0,
                     "isBestMatch", 1);
}

static json_t *account(const char *key, const char *secret)
{
    return json_pack("{s:s,s:s,s:{s:s},s:[]}", "api_key", key, "api_secret", secret, "balances",
                     "BTC", "1", "trades");
}

static void add_trade(json_t *acct, json_t *t)
{
    assert_int_equal(json_array_append_new(json_object_get(acct, "trades"), t), 0);
}

/* One account per malformed trade field: {field, JSON value}. */
static const char *const malformed[][2] = {
    {"price", "\"1e5\""},
    {"price", "\"\""},
    {"price", "60000"},
    {"price", "\"nan\""},
    {"price", "\" 1\""},
    {"price", "\"-1\""},
    {"qty", "\"-1\""},
    {"qty", "null"},
    {"quoteQty", "\"abc\""},
    {"quoteQty", "\"0x10\""},
    {"commission", "\"--1\""},
    {"commission", "\"-\""},
    {"commissionAsset", "\"usdt\""},
    {"commissionAsset", "\"ABCDEFGHIJKLMNOPQ\""},
    {"commissionAsset", "7"},
    {"isBuyer", "\"true\""},
    {"isBuyer", "1"},
    {"time", "\"1700000000000\""},
    {"time", "-5"},
    {"time", "1.5"},
    /* beyond 2^53: not exact once in JCS, and last id + 1 could overflow */
    {"id", "9007199254740993"},
    {"id", "9223372036854775807"},
};

static json_t *accounts_doc(void)
{
    json_t *accts = json_array();

    /* 2500 BTCUSDT trades (3 pages) and exactly 1000 ETHUSDT (a full page, then an empty one). */
    json_t *a = account("k-paging", "s-paging");
    for (int64_t id = 1; id <= 2500; id++)
        add_trade(a, trade("BTCUSDT", id, 60000.0 + (double)id, 0.01, 0.00001, "BTC", id % 2));
    for (int64_t id = 1; id <= 1000; id++)
        add_trade(a, trade("ETHUSDT", id, 3000.0, 0.5, 1.5, "USDT", 0));
    json_array_append_new(accts, a);

    /* ETHBTC id 2 twice (the second must be dropped), and BTCUSDT id 2 (kept: other symbol). */
    a = account("k-dedup", "s-dedup");
    add_trade(a, trade("ETHBTC", 1, 0.05, 1.0, 0.001, "ETH", 1));
    add_trade(a, trade("ETHBTC", 2, 0.051, 2.0, 0.0001, "BTC", 0));
    add_trade(a, trade("ETHBTC", 2, 0.099, 9.0, 0.0009, "BTC", 0));
    add_trade(a, trade("ETHBTC", 3, 0.052, 1.0, 0.01, "BNB", 1));
    add_trade(a, trade("BTCUSDT", 2, 61000.0, 0.1, 6.1, "USDT", 1));
    json_array_append_new(accts, a);

    /* Non-zero: BTC (free) and SOL (locked only); ETH and USDT are zero. */
    a = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s},s:s,s:s},s:[]}", "api_key", "k-bal", "api_secret",
                  "s-bal", "balances", "BTC", "0.5", "SOL", "free", "0", "locked", "2", "ETH",
                  "0.00000000", "USDT", "0", "trades");
    add_trade(a, trade("BTCUSDT", 10, 60000.0, 0.1, 6.0, "USDT", 1));
    add_trade(a, trade("BTCUSDT", 11, 61000.0, 0.05, 3.05, "USDT", 0));
    add_trade(a, trade("ETHBTC", 5, 0.05, 1.0, 0.001, "ETH", 1));
    add_trade(a, trade("SOLBTC", 7, 0.0025, 4.0, 0.004, "SOL", 1));
    /* ETH bought and sold to zero at a loss: no balance left, still scanned. */
    add_trade(a, trade("ETHUSDT", 8, 3000.0, 1.0, 3.0, "USDT", 1));
    add_trade(a, trade("ETHUSDT", 9, 2900.0, 1.0, 2.9, "USDT", 0));
    json_array_append_new(accts, a);

    /* 1000 BTCUSDT trades, so a second page is asked for; the simulator
     * fails every myTrades call of this key after the first (config.rules). */
    a = account("k-partial", "s-partial");
    for (int64_t id = 1; id <= 1000; id++)
        add_trade(a, trade("BTCUSDT", id, 60000.0, 0.01, 0.6, "USDT", id % 2));
    json_array_append_new(accts, a);

    a = account("k-ahead", "s-ahead");
    json_object_set_new(a, "clock_skew_ms", json_integer(3600000));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);

    a = account("k-behind", "s-behind");
    json_object_set_new(a, "clock_skew_ms", json_integer(-3600000));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);

    static const char *const faults[][2] = {{"k-500", "http500"},
                                            {"k-429", "http429"},
                                            {"k-slow", "slow"},
                                            {"k-badjson", "bad_json"},
                                            {"k-redirect", "redirect"}};
    for (size_t i = 0; i < PA_ARRAY_LEN(faults); i++) {
        a = account(faults[i][0], "s-fault");
        json_object_set_new(a, "fault", json_string(faults[i][1]));
        json_object_set_new(a, "slow_ms", json_integer(4000));
        json_array_append_new(accts, a);
    }

    for (size_t i = 0; i < PA_ARRAY_LEN(malformed); i++) {
        char key[32];
        snprintf(key, sizeof key, "k-mal-%zu", i);
        a = account(key, "s-mal");
        json_t *t = trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1);
        json_object_set_new(t, malformed[i][0], json_loads(malformed[i][1], JSON_DECODE_ANY, NULL));
        add_trade(a, t);
        json_array_append_new(accts, a);
    }
    /* Misbehaving exchanges (docs/BINANCE.md, "Misbehaving exchanges"). */
    a = account("k-flaky", "s-flaky");
    json_object_set_new(a, "fail_first", json_integer(2));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);
    a = account("k-ban", "s-fault");
    json_object_set_new(a, "fault", json_string("http418"));
    json_object_set_new(a, "retry_after_s", json_integer(120));
    json_array_append_new(accts, a);
    a = account("k-451", "s-fault");
    json_object_set_new(a, "fault", json_string("http451"));
    json_array_append_new(accts, a);
    a = account("k-weight", "s-weight");
    json_object_set_new(a, "used_weight", json_integer(4790));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);

    /* Whose account, which key (docs/BINANCE.md, "Account and key"). */
    a = account("k-withdraw", "s-withdraw");
    json_object_set_new(a, "uid", json_integer(354937868));
    json_object_set_new(a, "api_restrictions",
                        json_pack("{s:b,s:b,s:b}", "enableReading", 1, "enableWithdrawals", 1,
                                  "ipRestrict", 1));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);
    a = account("k-trade", "s-trade");
    json_object_set_new(a, "api_restrictions",
                        json_pack("{s:b,s:b}", "enableReading", 1, "enableSpotAndMarginTrading", 1));
    json_array_append_new(accts, a);
    a = account("k-uid", "s-uid");
    json_object_set_new(a, "uid", json_integer(354937868));
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    json_array_append_new(accts, a);
    a = json_pack("{s:s,s:s,s:{s:s},s:[]}", "api_key", "k-ed25519", "ed25519_public_key",
                  ED25519_PUB_PEM, "balances", "BTC", "1", "trades");
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, 6.0, "USDT", 1));
    add_trade(a, trade("BTCUSDT", 2, 61000.0, 0.1, 6.1, "USDT", 0));
    json_array_append_new(accts, a);

    a = account("k-rebate", "s-rebate");
    add_trade(a, trade("BTCUSDT", 1, 60000.0, 0.1, -0.5, "USDT", 1));
    json_array_append_new(accts, a);

    static const char *const syms[][4] = {
        {"BTCUSDT", "BTC", "USDT", "TRADING"}, {"ETHUSDT", "ETH", "USDT", "TRADING"},
        {"ETHBTC", "ETH", "BTC", "TRADING"},   {"SOLUSDT", "SOL", "USDT", "TRADING"},
        {"SOLBTC", "SOL", "BTC", "TRADING"},   {"XRPETH", "XRP", "ETH", "TRADING"},
        {"BNBBTC", "BNB", "BTC", "BREAK"},
        {"BUSDUSDT", "BUSD", "USDT", "BREAK"}, /* halted, but an "all" USDT scan asks it too */
    };
    json_t *symbols = json_array();
    for (size_t i = 0; i < PA_ARRAY_LEN(syms); i++)
        json_array_append_new(symbols, json_pack("{s:s,s:s,s:s,s:s}", "symbol", syms[i][0],
                                                 "baseAsset", syms[i][1], "quoteAsset", syms[i][2],
                                                 "status", syms[i][3]));
    /* A page that fails for good: k-partial's first myTrades call is served,
     * every later one (retries included) answers HTTP 500. */
    json_t *config = json_pack("{s:[{s:s,s:s,s:i,s:i}]}", "rules", "path", "/api/v3/myTrades",
                               "api_key", "k-partial", "skip", 1, "status", 500);
    return json_pack("{s:o,s:o,s:o}", "accounts", accts, "symbols", symbols, "config", config);
}

/* ---- the simulator process ----------------------------------------------- */

static int sim_start(void **state)
{
    (void)state;
    g_t0 = 1700000000000LL;
    if (pa_test_sim_up(&g_sim, "/tmp/pa_test_binance_XXXXXX", accounts_doc()) != 0)
        return -1;
    snprintf(g_base_url, sizeof g_base_url, "%s", g_sim.base_url);
    return 0;
}

static int sim_stop(void **state)
{
    (void)state;
    pa_test_sim_down(&g_sim);
    return 0;
}

/* ---- helpers --------------------------------------------------------------- */

typedef struct {
    pa_audit_log audit;
    pa_exchange_result r;
} run;

static long g_max_wait_ms;              /* 0: the connector's default */
static const char *g_currency = "USDT"; /* what an "all" scan covers */

static pa_exchange_status fetch_url(run *x, const char *url, const char *key, const char *secret,
                                    const char *const *syms, size_t n, long timeout_ms)
{
    pa_exchange_params p = {.max_wait_ms = g_max_wait_ms,
                            .base_url = url,
                            .api_key = key,
                            .api_secret = secret,
                            .symbols = syms,
                            .nsymbols = n,
                            .currency = g_currency,
                            .timeout_ms = timeout_ms};
    pa_audit_init(&x->audit);
    const pa_connector *c = pa_connector_find("binance");
    assert_non_null(c);
    return c->fetch(&p, &x->audit, &x->r);
}

static pa_exchange_status fetch_opts(run *x, const char *key, const char *secret,
                                     int require_read_only, int want_uid)
{
    static const char *const syms[] = {"BTCUSDT"};
    pa_exchange_params p = {.base_url = g_base_url,
                            .api_key = key,
                            .api_secret = secret,
                            .symbols = syms,
                            .nsymbols = 1,
                            .timeout_ms = TIMEOUT_MS,
                            .require_read_only = require_read_only,
                            .want_account_uid = want_uid};
    pa_audit_init(&x->audit);
    return pa_binance_connector.fetch(&p, &x->audit, &x->r);
}

static pa_exchange_status fetch(run *x, const char *key, const char *secret,
                                const char *const *syms, size_t n)
{
    return fetch_url(x, g_base_url, key, secret, syms, n, TIMEOUT_MS);
}

static void run_free(run *x)
{
    pa_exchange_result_free(&x->r);
    pa_audit_free(&x->audit);
}

static void assert_entry(const run *x, size_t i, const char *json)
{
    assert_true(i < x->audit.len);
    assert_string_equal(x->audit.entries[i], json);
}

/* A failed run leaves nothing behind but the detail. */
static void assert_failed_clean(const run *x)
{
    assert_int_equal(x->r.fills.len, 0);
    assert_null(x->r.fills.v);
    assert_null(x->r.symbols);
    assert_int_equal(x->r.nsymbols, 0);
    assert_true(x->r.detail[0] != '\0');
}

static void assert_detail_has(const run *x, const char *needle)
{
    if (strstr(x->r.detail, needle) == NULL)
        fail_msg("detail \"%s\" lacks \"%s\"", x->r.detail, needle);
}

static void assert_detail_lacks(const run *x, const char *needle)
{
    if (strstr(x->r.detail, needle) != NULL)
        fail_msg("detail \"%s\" contains \"%s\"", x->r.detail, needle);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- signer ---------------------------------------------------------------- */

static void test_sign_binance_example(void **state)
{
    (void)state;
    char hex[65];
    assert_int_equal(
        pa_binance_sign("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
                        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&"
                        "recvWindow=5000&timestamp=1499827319559",
                        hex),
        0);
    assert_string_equal(hex, "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

/* RFC 8032, 7.1, test 2: the message "r" (a query string as good as any). */
static void test_sign_ed25519_rfc8032(void **state)
{
    (void)state;
    EVP_PKEY *k = NULL;
    assert_true(pa_binance_secret_is_pem(ED25519_OTHER_PRIV_PEM));
    assert_false(pa_binance_secret_is_pem("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqq"));
    assert_int_equal(pa_binance_load_ed25519(ED25519_OTHER_PRIV_PEM, &k), 0);
    char sig[PA_BN_ED25519_SIG_MAX];
    assert_int_equal(pa_binance_sign_ed25519(k, "r", sig), 0);
    /* base64 of 92a009a9...12bb0c00, with '+' and '=' percent-encoded */
    assert_string_equal(sig, "kqAJqfDUyrhyDoILX2QlQKKye1QWUD%2BPs3YiI%2BvbadoIWsHkPhWZbkWPNhPQ8R2MOH"
                             "surrQwKu6wDSkWErsMAA%3D%3D");
    EVP_PKEY_free(k);
    /* Not a key, or a public key: refused. */
    static const char *const bad[] = {
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
        ED25519_PUB_PEM,
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        k = NULL;
        assert_int_equal(pa_binance_load_ed25519(bad[i], &k), -1);
        assert_null(k);
    }
}

/* account_id against a vector computed independently (`openssl dgst -sha256
 * -mac HMAC -macopt hexkey:000102..1f` over "binance:354937868"). */
static void test_account_id_vector(void **state)
{
    (void)state;
    uint8_t salt[32];
    for (int i = 0; i < 32; i++)
        salt[i] = (uint8_t)i;
    char id[PA_ACCOUNT_ID_HEX_LEN + 1];
    assert_int_equal(pa_account_id(salt, "binance", "354937868", id), 0);
    assert_string_equal(id, "b0f348f2989b311aa2de26715435e327fbc8c6276080c98e68ad6441326cf17b");
    assert_int_equal(pa_account_id(salt, "binance", "", id), -1);
    assert_int_equal(pa_account_id(salt, "bin:ance", "1", id), -1);
}

/* apiRestrictions as Binance documents it (wallet/account.md). */
static void test_decode_api_restrictions(void **state)
{
    (void)state;
    json_t *doc = json_loads(
        "{\"ipRestrict\":false,\"createTime\":1698645219000,\"enableReading\":true,"
        "\"enableWithdrawals\":false,\"enableInternalTransfer\":true,\"enableMargin\":false,"
        "\"enableFutures\":false,\"permitsUniversalTransfer\":false,"
        "\"enableVanillaOptions\":false,\"enableFixApiTrade\":false,\"enableFixReadOnly\":true,"
        "\"enableSpotAndMarginTrading\":false,\"enablePortfolioMarginTrading\":false}",
        0, NULL);
    assert_non_null(doc);
    pa_key_permissions k;
    char why[128];
    assert_int_equal(pa_bn_decode_api_restrictions(doc, &k, why, sizeof why), 0);
    assert_true(k.known && k.read && k.internal_transfer);
    assert_false(k.withdraw || k.spot_trade || k.ip_restricted || k.other_trading);
    assert_true(pa_key_permissions_move_money(&k));
    json_object_set_new(doc, "enableInternalTransfer", json_false());
    assert_int_equal(pa_bn_decode_api_restrictions(doc, &k, why, sizeof why), 0);
    assert_false(pa_key_permissions_move_money(&k));
    json_object_set_new(doc, "enableVanillaOptions", json_true());
    assert_int_equal(pa_bn_decode_api_restrictions(doc, &k, why, sizeof why), 0);
    assert_true(pa_key_permissions_move_money(&k));
    json_object_set_new(doc, "enableWithdrawals", json_string("false"));
    assert_int_equal(pa_bn_decode_api_restrictions(doc, &k, why, sizeof why), -1);
    assert_false(k.known);
    json_object_del(doc, "enableWithdrawals");
    assert_int_equal(pa_bn_decode_api_restrictions(doc, &k, why, sizeof why), -1);
    json_decref(doc);

    char uid[PA_ACCOUNT_UID_MAX];
    doc = json_loads("{\"uid\":354937868,\"balances\":[]}", 0, NULL);
    assert_int_equal(pa_bn_decode_uid(doc, uid, sizeof uid, why, sizeof why), 0);
    assert_string_equal(uid, "354937868");
    json_object_set_new(doc, "uid", json_string("354937868"));
    assert_int_equal(pa_bn_decode_uid(doc, uid, sizeof uid, why, sizeof why), -1);
    json_object_set_new(doc, "uid", json_integer(0));
    assert_int_equal(pa_bn_decode_uid(doc, uid, sizeof uid, why, sizeof why), -1);
    json_decref(doc);
}

/* A key that can withdraw (or trade) is refused before anything else is
 * fetched; without the requirement it runs and reports its rights. */
static void test_key_not_read_only(void **state)
{
    (void)state;
    run x = {0};
    assert_int_equal(fetch_opts(&x, "k-withdraw", "s-withdraw", 1, 1),
                     PA_EXCHANGE_KEY_NOT_READ_ONLY);
    assert_failed_clean(&x);
    assert_detail_has(&x, "withdraw");
    assert_int_equal(x.audit.len, 0);
    assert_string_equal(x.r.account_uid, "");
    run_free(&x);

    run t = {0};
    assert_int_equal(fetch_opts(&t, "k-trade", "s-trade", 1, 0), PA_EXCHANGE_KEY_NOT_READ_ONLY);
    assert_detail_has(&t, "spot_trade");
    assert_detail_lacks(&t, "withdraw");
    run_free(&t);

    run y = {0};
    assert_int_equal(fetch_opts(&y, "k-withdraw", "s-withdraw", 0, 1), PA_EXCHANGE_OK);
    assert_true(y.r.key_permissions.known && y.r.key_permissions.withdraw &&
                y.r.key_permissions.read && y.r.key_permissions.ip_restricted);
    assert_false(y.r.key_permissions.spot_trade);
    assert_int_equal(y.r.fills.len, 1);
    assert_string_equal(y.r.account_uid, "354937868");
    run_free(&y);
}

/* The uid is fetched only when asked for; a read-only key passes. */
static void test_account_uid(void **state)
{
    (void)state;
    run x = {0};
    assert_int_equal(fetch_opts(&x, "k-uid", "s-uid", 1, 1), PA_EXCHANGE_OK);
    assert_string_equal(x.r.account_uid, "354937868");
    assert_true(x.r.key_permissions.known && x.r.key_permissions.read);
    assert_false(pa_key_permissions_move_money(&x.r.key_permissions));
    run_free(&x);
    run y = {0};
    assert_int_equal(fetch_opts(&y, "k-uid", "s-uid", 1, 0), PA_EXCHANGE_OK);
    assert_string_equal(y.r.account_uid, "");
    run_free(&y);
}

/* An Ed25519 API key: the simulator checks every signature with the
 * registered public key. */
static void test_ed25519_key(void **state)
{
    (void)state;
    run x = {0};
    assert_int_equal(fetch_opts(&x, "k-ed25519", ED25519_PRIV_PEM, 1, 1), PA_EXCHANGE_OK);
    assert_int_equal(x.r.fills.len, 2);
    assert_true(x.r.account_uid[0] != '\0');
    run_free(&x);

    run y = {0}; /* signed with another key: -1022 */
    assert_int_equal(fetch_opts(&y, "k-ed25519", ED25519_OTHER_PRIV_PEM, 1, 0),
                     PA_EXCHANGE_REJECTED_KEY);
    assert_failed_clean(&y);
    assert_detail_lacks(&y, "PRIVATE");
    run_free(&y);

    run z = {0}; /* a PEM that is no Ed25519 key: refused before a call */
    assert_int_equal(fetch_opts(&z, "k-ed25519", "-----BEGIN PRIVATE KEY-----\nAAAA\n", 1, 0),
                     PA_EXCHANGE_REJECTED_KEY);
    assert_detail_has(&z, "Ed25519");
    assert_int_equal(z.audit.len, 0);
    run_free(&z);
}

static void test_sign_rfc4231_case2(void **state)
{
    (void)state;
    char hex[65];
    assert_int_equal(pa_binance_sign("Jefe", "what do ya want for nothing?", hex), 0);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_sign_rejects_bad_input(void **state)
{
    (void)state;
    char hex[65];
    assert_int_equal(pa_binance_sign(NULL, "a=1", hex), -1);
    assert_int_equal(pa_binance_sign("", "a=1", hex), -1);
    assert_int_equal(pa_binance_sign("s", NULL, hex), -1);
    assert_int_equal(pa_binance_sign("s", "a=1", NULL), -1);
}

/* ---- registry ---------------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    assert_ptr_equal(pa_connector_find("binance"), &pa_binance_connector);
    assert_string_equal(pa_binance_connector.name, "binance");
    assert_null(pa_connector_find("Binance"));
    assert_null(pa_connector_find("binanceus"));
    assert_null(pa_connector_find(""));
    assert_null(pa_connector_find(NULL));
    size_t n = 0;
    for (; pa_connectors[n] != NULL; n++)
        assert_ptr_equal(pa_connector_find_account(pa_connectors[n]->name,
                                                   pa_connectors[n]->account_type),
                         pa_connectors[n]);
    assert_true(n >= 2);
    /* By account type: spot is the default, usdm its own connector. */
    assert_ptr_equal(pa_connector_find_account("binance", NULL), &pa_binance_connector);
    assert_ptr_equal(pa_connector_find_account("binance", "spot"), &pa_binance_connector);
    assert_ptr_equal(pa_connector_find_account("binance", "usdm"), &pa_binance_usdm_connector);
    assert_null(pa_connector_find_account("binance", "coinm"));
}

/* ---- fetching ---------------------------------------------------------------- */

static void test_paging_and_audit(void **state)
{
    (void)state;
    static const char *const syms[] = {"ETHUSDT", "BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "s-paging", syms, 2), PA_EXCHANGE_OK);
    assert_string_equal(x.r.detail, "");
    assert_string_equal(x.r.symbol_source, "client");
    assert_int_equal(x.r.nsymbols, 2);
    assert_string_equal(x.r.symbols[0], "BTCUSDT");
    assert_string_equal(x.r.symbols[1], "ETHUSDT");
    assert_int_equal(x.r.fills.len, 3500);

    assert_int_equal(x.audit.len, 6);
    assert_entry(&x, 0,
                 "{\"count\":2,\"endpoint\":\"/api/v3/exchangeInfo\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":1,\"symbol\":null,\"type\":\"fetch\"}");
    assert_entry(&x, 1,
                 "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1,"
                 "\"last_id\":1000,\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 2,
                 "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1001,"
                 "\"last_id\":2000,\"page\":2,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 3,
                 "{\"count\":500,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":2001,"
                 "\"last_id\":2500,\"page\":3,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 4,
                 "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1,"
                 "\"last_id\":1000,\"page\":1,\"symbol\":\"ETHUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 5,
                 "{\"count\":0,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":2,\"symbol\":\"ETHUSDT\",\"type\":\"fetch\"}");

    /* Sorted by (symbol, id); every field parsed from Binance's strings. */
    for (size_t i = 0; i < 2500; i++) {
        assert_string_equal(x.r.fills.v[i].symbol, "BTCUSDT");
        assert_int_equal(x.r.fills.v[i].id, (int64_t)i + 1);
    }
    const pa_fill *f = &x.r.fills.v[1234]; /* BTCUSDT id 1235 */
    assert_int_equal(f->id, 1235);
    assert_string_equal(f->base, "BTC");
    assert_string_equal(f->quote, "USDT");
    assert_int_equal(f->time_ms, g_t0 + 1235 * 1000);
    assert_int_equal(f->is_buyer, 1);
    assert_dec(f->price, "61235");
    assert_dec(f->qty, "0.01");
    assert_dec(f->quote_qty, "612.35");
    assert_dec(f->commission, "0.00001");
    assert_string_equal(f->commission_asset, "BTC");
    f = &x.r.fills.v[2500]; /* ETHUSDT id 1 */
    assert_string_equal(f->symbol, "ETHUSDT");
    assert_int_equal(f->id, 1);
    assert_int_equal(f->is_buyer, 0);
    assert_string_equal(f->commission_asset, "USDT");

    /* The log commits to counts and ids only: nothing of the request. */
    for (size_t i = 0; i < x.audit.len; i++) {
        assert_null(strstr(x.audit.entries[i], "s-paging"));
        assert_null(strstr(x.audit.entries[i], "k-paging"));
        assert_null(strstr(x.audit.entries[i], "signature"));
        assert_null(strstr(x.audit.entries[i], "timestamp"));
    }
    run_free(&x);
}

static void test_dedup_by_symbol_and_id(void **state)
{
    (void)state;
    static const char *const syms[] = {"ETHBTC", "BTCUSDT", "ETHBTC"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-dedup", "s-dedup", syms, 3), PA_EXCHANGE_OK);
    assert_int_equal(x.r.nsymbols, 2);
    assert_int_equal(x.r.fills.len, 4);
    const pa_fill *v = x.r.fills.v;
    assert_string_equal(v[0].symbol, "BTCUSDT");
    assert_int_equal(v[0].id, 2);
    assert_string_equal(v[1].symbol, "ETHBTC");
    assert_int_equal(v[1].id, 1);
    assert_string_equal(v[1].base, "ETH");
    assert_string_equal(v[1].quote, "BTC");
    assert_int_equal(v[2].id, 2);
    assert_dec(v[2].price, "0.051"); /* the first of the two id-2 rows */
    assert_int_equal(v[3].id, 3);
    assert_string_equal(v[3].commission_asset, "BNB");
    /* The page itself reported what the exchange sent: 4 rows, ids 1..3. */
    assert_entry(&x, 2,
                 "{\"count\":4,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1,"
                 "\"last_id\":3,\"page\":1,\"symbol\":\"ETHBTC\",\"type\":\"fetch\"}");
    run_free(&x);
}

/* No client symbols: every market quoted in the currency is scanned, held
 * or not, trading or halted; the balances choose nothing. */
static void test_symbols_all(void **state)
{
    (void)state;
    run x = {0};
    assert_int_equal(fetch(&x, "k-bal", "s-bal", NULL, 0), PA_EXCHANGE_OK);
    assert_string_equal(x.r.symbol_source, "all");
    /* The USDT markets: BTCUSDT, BUSDUSDT (BREAK), ETHUSDT (sold to zero),
     * SOLUSDT (never traded). Not ETHBTC or SOLBTC: another quote asset. */
    assert_int_equal(x.r.nsymbols, 4);
    assert_string_equal(x.r.symbols[0], "BTCUSDT");
    assert_string_equal(x.r.symbols[1], "BUSDUSDT");
    assert_string_equal(x.r.symbols[2], "ETHUSDT");
    assert_string_equal(x.r.symbols[3], "SOLUSDT");
    assert_int_equal(x.r.fills.len, 4);
    assert_string_equal(x.r.fills.v[2].symbol, "ETHUSDT");
    assert_int_equal(x.r.fills.v[2].id, 8);
    assert_string_equal(x.r.fills.v[3].symbol, "ETHUSDT");
    assert_int_equal(x.r.fills.v[3].id, 9);
    assert_int_equal(x.r.fills.v[3].is_buyer, 0);
    for (size_t i = 0; i < x.r.fills.len; i++)
        assert_string_equal(x.r.fills.v[i].quote, "USDT");

    assert_int_equal(x.audit.len, 6);
    assert_entry(&x, 0,
                 "{\"count\":2,\"endpoint\":\"/api/v3/account\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":1,\"symbol\":null,\"type\":\"fetch\"}");
    assert_entry(&x, 1,
                 "{\"count\":8,\"endpoint\":\"/api/v3/exchangeInfo\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":1,\"symbol\":null,\"type\":\"fetch\"}");
    assert_entry(&x, 2,
                 "{\"count\":2,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":10,"
                 "\"last_id\":11,\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 3,
                 "{\"count\":0,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":1,\"symbol\":\"BUSDUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 4,
                 "{\"count\":2,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":8,"
                 "\"last_id\":9,\"page\":1,\"symbol\":\"ETHUSDT\",\"type\":\"fetch\"}");
    assert_entry(&x, 5,
                 "{\"count\":0,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":null,"
                 "\"last_id\":null,\"page\":1,\"symbol\":\"SOLUSDT\",\"type\":\"fetch\"}");
    run_free(&x);

    /* The currency decides the scan: in BTC, the BTC-quoted markets. */
    g_currency = "BTC";
    run y = {0};
    pa_exchange_status st = fetch(&y, "k-bal", "s-bal", NULL, 0);
    g_currency = "USDT";
    assert_int_equal(st, PA_EXCHANGE_OK);
    assert_string_equal(y.r.symbol_source, "all");
    assert_int_equal(y.r.nsymbols, 3);
    assert_string_equal(y.r.symbols[0], "BNBBTC");
    assert_string_equal(y.r.symbols[1], "ETHBTC");
    assert_string_equal(y.r.symbols[2], "SOLBTC");
    assert_int_equal(y.r.fills.len, 2);
    run_free(&y);

    /* Without a usable currency an "all" scan is refused before any call. */
    static const char *const bad[] = {"usdt", ""};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        g_currency = bad[i];
        run z = {0};
        st = fetch(&z, "k-bal", "s-bal", NULL, 0);
        assert_int_equal(st, PA_EXCHANGE_BAD_RESPONSE);
        assert_int_equal(z.audit.len, 0);
        assert_detail_has(&z, "currency");
        run_free(&z);
    }
    g_currency = NULL;
    run z = {0};
    assert_int_equal(fetch(&z, "k-bal", "s-bal", NULL, 0), PA_EXCHANGE_BAD_RESPONSE);
    run_free(&z);
    g_currency = "USDT";
}

/* A page that fails for good (HTTP 500 on every try) fails the whole run:
 * no fills, no symbols, only the reason; the first page's audit entry is
 * left in the caller's log, which the enclave then discards unsigned. */
static void test_partial_history_fails(void **state)
{
    (void)state;
    g_max_wait_ms = 3000;
    run x = {0};
    pa_exchange_status st = fetch(&x, "k-partial", "s-partial", NULL, 0);
    g_max_wait_ms = 0;
    assert_int_equal(st, PA_EXCHANGE_UNAVAILABLE);
    assert_failed_clean(&x);
    assert_null(x.r.symbol_source);
    assert_detail_has(&x, "/api/v3/myTrades");
    assert_detail_has(&x, "HTTP 500");
    /* account, exchangeInfo, BTCUSDT page 1; page 2 never became an entry */
    assert_int_equal(x.audit.len, 3);
    assert_entry(&x, 2,
                 "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":1,"
                 "\"last_id\":1000,\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}");
    run_free(&x);
}

static void test_client_symbol_not_listed(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT", "NOPEUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "s-paging", syms, 2), PA_EXCHANGE_BAD_RESPONSE);
    assert_failed_clean(&x);
    assert_detail_has(&x, "-1121 Invalid symbol.");
    run_free(&x);
}

/* Too many symbols for the symbols=[...] filter: the full list is fetched and
 * the connector itself finds the symbol missing. */
static void test_client_symbol_not_listed_full_list(void **state)
{
    (void)state;
    enum { N = 190 }; /* 190 x 16-character names: past the 4000-byte filter limit */
    static char names[N][24];
    const char *syms[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "X%03dLONGNAMEUSDT", i);
        syms[i] = names[i];
    }
    syms[0] = "BTCUSDT";
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "s-paging", syms, N), PA_EXCHANGE_BAD_RESPONSE);
    assert_failed_clean(&x);
    assert_detail_has(&x, "X001LONGNAMEUSDT is not listed");
    run_free(&x);
}

static void test_client_symbols_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {"btcusdt", "BTC/USDT", "BTCUSDT&limit=1", "",
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        const char *syms[] = {"BTCUSDT", bad[i]};
        run x = {0};
        assert_int_equal(fetch(&x, "k-paging", "s-paging", syms, 2), PA_EXCHANGE_BAD_RESPONSE);
        assert_failed_clean(&x);
        assert_int_equal(x.audit.len, 0); /* refused before any call */
        run_free(&x);
    }
    const char *none[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "s-paging", none, 0), PA_EXCHANGE_BAD_RESPONSE);
    run_free(&x);
}

static void test_too_many_symbols(void **state)
{
    (void)state;
    enum { N = PA_BN_MAX_SYMBOLS + 1 };
    const char *syms[N];
    for (int i = 0; i < N; i++)
        syms[i] = "BTCUSDT";
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "s-paging", syms, N), PA_EXCHANGE_TOO_LARGE);
    assert_failed_clean(&x);
    run_free(&x);
}

static void test_wrong_key(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-nobody", "s-paging", syms, 1), PA_EXCHANGE_REJECTED_KEY);
    assert_failed_clean(&x);
    assert_detail_has(&x, "-2015 Invalid API-key, IP, or permissions for action.");
    assert_detail_has(&x, "HTTP 401");
    assert_detail_lacks(&x, "k-nobody");
    run_free(&x);

    run y = {0}; /* the key check is the first signed call, and the first to fail */
    assert_int_equal(fetch(&y, "k-nobody", "s-paging", NULL, 0), PA_EXCHANGE_REJECTED_KEY);
    assert_detail_has(&y, "/sapi/v1/account/apiRestrictions");
    assert_int_equal(y.audit.len, 0);
    run_free(&y);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging", "not-the-secret", syms, 1), PA_EXCHANGE_REJECTED_KEY);
    assert_failed_clean(&x);
    assert_detail_has(&x, "-1022");
    assert_detail_lacks(&x, "not-the-secret");
    assert_detail_lacks(&x, "k-paging");
    run_free(&x);
}

static void test_key_with_control_characters(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-paging\r\nX-Other: 1", "s-paging", syms, 1),
                     PA_EXCHANGE_REJECTED_KEY);
    assert_int_equal(x.audit.len, 0);
    run_free(&x);
    run y = {0};
    assert_int_equal(fetch(&y, "k-paging", "", syms, 1), PA_EXCHANGE_REJECTED_KEY);
    run_free(&y);
}

/* The server's clock is an hour ahead, then an hour behind: -1021, one call
 * to /api/v3/time, and the retry succeeds. */
static void test_clock_skew_retried(void **state)
{
    (void)state;
    static const char *const keys[][2] = {{"k-ahead", "s-ahead"}, {"k-behind", "s-behind"}};
    for (size_t i = 0; i < PA_ARRAY_LEN(keys); i++) {
        run x = {0};
        assert_int_equal(fetch(&x, keys[i][0], keys[i][1], NULL, 0), PA_EXCHANGE_OK);
        assert_int_equal(x.r.fills.len, 1);
        assert_int_equal(x.r.fills.v[0].id, 1);
        run_free(&x);
    }
}

static void test_server_errors_unavailable(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-500", "s-fault", syms, 1), PA_EXCHANGE_UNAVAILABLE);
    assert_failed_clean(&x);
    assert_detail_has(&x, "HTTP 500");
    assert_detail_has(&x, "(after 3 retries)"); /* bounded in count */
    run_free(&x);
    run y = {0};
    /* Retry-After: 1 honoured three times, then given up. */
    assert_int_equal(fetch(&y, "k-429", "s-fault", NULL, 0), PA_EXCHANGE_UNAVAILABLE);
    assert_detail_has(&y, "HTTP 429");
    assert_detail_has(&y, "(after 3 retries)");
    run_free(&y);
    /* Bounded in time: with no time to wait, no retry at all. */
    g_max_wait_ms = 1;
    run z = {0};
    assert_int_equal(fetch(&z, "k-500", "s-fault", syms, 1), PA_EXCHANGE_UNAVAILABLE);
    assert_detail_has(&z, "HTTP 500");
    assert_detail_lacks(&z, "retries");
    run_free(&z);
    g_max_wait_ms = 0;
}

static void test_bad_json(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-badjson", "s-fault", syms, 1), PA_EXCHANGE_BAD_RESPONSE);
    assert_failed_clean(&x);
    assert_detail_has(&x, "not JSON");
    run_free(&x);
}

static void test_malformed_trades(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    for (size_t i = 0; i < PA_ARRAY_LEN(malformed); i++) {
        char key[32];
        snprintf(key, sizeof key, "k-mal-%zu", i);
        run x = {0};
        pa_exchange_status st = fetch(&x, key, "s-mal", syms, 1);
        if (st != PA_EXCHANGE_BAD_RESPONSE)
            fail_msg("%s = %s: status %d", malformed[i][0], malformed[i][1], (int)st);
        assert_failed_clean(&x);
        assert_detail_has(&x, "malformed trade");
        run_free(&x);
    }
    /* A negative commission (a maker rebate) is a valid trade. */
    run x = {0};
    assert_int_equal(fetch(&x, "k-rebate", "s-rebate", syms, 1), PA_EXCHANGE_OK);
    assert_int_equal(x.r.fills.len, 1);
    assert_dec(x.r.fills.v[0].commission, "-0.5");
    run_free(&x);
}

static void test_redirect_not_followed(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    /* Following it would end in "connection refused" (UNAVAILABLE). */
    assert_int_equal(fetch(&x, "k-redirect", "s-fault", syms, 1), PA_EXCHANGE_BAD_RESPONSE);
    assert_detail_has(&x, "HTTP 302");
    run_free(&x);
}

static void test_nothing_listening(void **state)
{
    (void)state;
    /* A port that was free a moment ago and has no listener. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch_url(&x, url, "k-paging", "s-paging", syms, 1, TIMEOUT_MS),
                     PA_EXCHANGE_UNAVAILABLE);
    assert_failed_clean(&x);
    run_free(&x);
}

static void test_slow_times_out(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    g_max_wait_ms = 1; /* no time for a retry: one call, cut at timeout_ms */
    int64_t t0 = mono_ms();
    assert_int_equal(fetch_url(&x, g_base_url, "k-slow", "s-fault", syms, 1, 700),
                     PA_EXCHANGE_UNAVAILABLE);
    int64_t took = mono_ms() - t0;
    g_max_wait_ms = 0;
    assert_true(took >= 600);
    assert_true(took < 3000); /* the simulator sleeps 4 s */
    assert_detail_has(&x, "imeout");
    assert_detail_lacks(&x, "retries");
    run_free(&x);
    /* With time to wait, a timeout is retried, at most three times. */
    run y = {0};
    assert_int_equal(fetch_url(&y, g_base_url, "k-slow", "s-fault", syms, 1, 300),
                     PA_EXCHANGE_UNAVAILABLE);
    assert_detail_has(&y, "imeout");
    assert_detail_has(&y, "(after 3 retries)");
    run_free(&y);
}

/* Two HTTP 500s, then the answer: retried with backoff, and the result is
 * the same as from a well-behaved exchange. */
static void test_5xx_burst_retried(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-flaky", "s-flaky", syms, 1), PA_EXCHANGE_OK);
    assert_string_equal(x.r.detail, "");
    assert_int_equal(x.r.fills.len, 1);
    assert_int_equal(x.audit.len,
                     2); /* exchangeInfo and one myTrades page: retries leave no entry */
    run_free(&x);
}

/* 418: banned for Retry-After; every later run to that host fails at once,
 * without a call, until the ban ends. */
static void test_418_bans_the_host(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-ban", "s-fault", syms, 1), PA_EXCHANGE_BANNED);
    assert_failed_clean(&x);
    assert_detail_has(&x, "HTTP 418");
    assert_int_equal(x.r.retry_after_ms, 120000);
    run_free(&x);
    /* A good key, the same host: refused before any call (no audit entry,
     * not even the unsigned exchangeInfo). */
    run y = {0};
    assert_int_equal(fetch(&y, "k-paging", "s-paging", syms, 1), PA_EXCHANGE_BANNED);
    assert_failed_clean(&y);
    assert_detail_has(&y, "no call was made");
    assert_int_equal(y.audit.len, 0);
    assert_true(y.r.retry_after_ms > 100000 && y.r.retry_after_ms <= 120000);
    run_free(&y);
    pa_pace_reset(); /* the other tests share this host */
    run z = {0};
    assert_int_equal(fetch(&z, "k-paging", "s-paging", syms, 1), PA_EXCHANGE_OK);
    run_free(&z);
}

static void test_451_region_blocked(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    run x = {0};
    assert_int_equal(fetch(&x, "k-451", "s-fault", syms, 1), PA_EXCHANGE_REGION_BLOCKED);
    assert_failed_clean(&x);
    assert_detail_has(&x, "HTTP 451");
    assert_detail_has(&x, "region");
    assert_detail_lacks(&x, "retries");
    run_free(&x);
}

/* The exchange says 4790 of the minute's weight is used: the next call
 * (weight 20) would pass the 4800 budget, so the run waits for the next
 * minute — here it may not wait, and fails before sending it. */
static void test_weight_budget_paces(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    g_max_wait_ms = 1;
    run x = {0};
    pa_exchange_status st = fetch(&x, "k-weight", "s-weight", syms, 1);
    g_max_wait_ms = 0;
    assert_int_equal(st, PA_EXCHANGE_UNAVAILABLE);
    assert_failed_clean(&x);
    assert_detail_has(&x, "weight budget is spent");
    assert_int_equal(x.audit.len, 1); /* exchangeInfo only: myTrades was never sent */
    run_free(&x);
    /* The budget is shared: another key on the same host waits too. */
    g_max_wait_ms = 1;
    run y = {0};
    st = fetch(&y, "k-paging", "s-paging", syms, 1);
    g_max_wait_ms = 0;
    assert_int_equal(st, PA_EXCHANGE_UNAVAILABLE);
    assert_int_equal(y.audit.len, 0);
    run_free(&y);
    pa_pace_reset();
}

/* The progress hook (aggregate jobs): called before each symbol, after each
 * full page and at the end, never backwards; a nonzero answer stops the run
 * there with PA_EXCHANGE_CANCELLED and nothing kept. */
typedef struct {
    pa_exchange_progress seen[32];
    size_t n;
    size_t stop_after; /* answer "stop" at this call (0: never) */
} progress_log;

static int record_progress(void *ud, const pa_exchange_progress *pr)
{
    progress_log *l = ud;
    if (l->n < PA_ARRAY_LEN(l->seen))
        l->seen[l->n] = *pr;
    l->n++;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static pa_exchange_status fetch_progress(run *x, progress_log *l)
{
    static const char *const syms[] = {"ETHUSDT", "BTCUSDT"};
    pa_exchange_params p = {.base_url = g_base_url,
                            .api_key = "k-paging",
                            .api_secret = "s-paging",
                            .symbols = syms,
                            .nsymbols = 2,
                            .timeout_ms = TIMEOUT_MS,
                            .progress = record_progress,
                            .progress_ud = l};
    pa_audit_init(&x->audit);
    return pa_binance_connector.fetch(&p, &x->audit, &x->r);
}

static void test_progress_hook(void **state)
{
    (void)state;
    progress_log l = {0};
    run x = {0};
    assert_int_equal(fetch_progress(&x, &l), PA_EXCHANGE_OK);
    /* BTCUSDT: before, after its two full pages; ETHUSDT: before, after its
     * full page; the end. (The short last page of each ends its symbol.) */
    static const pa_exchange_progress want[] = {
        {0, 2, 0}, {0, 2, 1}, {0, 2, 2}, {1, 2, 3}, {1, 2, 4}, {2, 2, 5}};
    assert_int_equal(l.n, PA_ARRAY_LEN(want));
    for (size_t i = 0; i < PA_ARRAY_LEN(want); i++) {
        assert_int_equal(l.seen[i].symbols_done, want[i].symbols_done);
        assert_int_equal(l.seen[i].symbols_total, want[i].symbols_total);
        assert_int_equal(l.seen[i].pages, want[i].pages);
    }
    run_free(&x);

    /* stopped after the first page: nothing kept, no further call made */
    progress_log stop = {.stop_after = 2};
    run y = {0};
    assert_int_equal(fetch_progress(&y, &stop), PA_EXCHANGE_CANCELLED);
    assert_failed_clean(&y);
    assert_detail_has(&y, "cancelled");
    assert_int_equal(stop.n, 2);
    assert_int_equal(y.audit.len, 2); /* exchangeInfo and the one page */
    run_free(&y);
}

static void test_invalid_parameters(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT"};
    static const char *const bad_urls[] = {"", "ftp://127.0.0.1", "http://127.0.0.1:1/",
                                           "http://127.0.0.1:1/?x=1", "file:///etc/passwd"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad_urls); i++) {
        run x = {0};
        assert_int_equal(fetch_url(&x, bad_urls[i], "k-paging", "s-paging", syms, 1, TIMEOUT_MS),
                         PA_EXCHANGE_BAD_RESPONSE);
        assert_int_equal(x.audit.len, 0);
        run_free(&x);
    }
    pa_exchange_result r;
    pa_audit_log audit;
    pa_audit_init(&audit);
    assert_int_equal(pa_binance_connector.fetch(NULL, &audit, &r), PA_EXCHANGE_BAD_RESPONSE);
    pa_exchange_params p = {
        .base_url = g_base_url, .api_key = "k", .api_secret = "s", .timeout_ms = TIMEOUT_MS};
    assert_int_equal(pa_binance_connector.fetch(&p, NULL, &r), PA_EXCHANGE_BAD_RESPONSE);
    pa_exchange_result_free(&r);
    pa_audit_free(&audit);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_binance_example),
        cmocka_unit_test(test_sign_rfc4231_case2),
        cmocka_unit_test(test_sign_ed25519_rfc8032),
        cmocka_unit_test(test_account_id_vector),
        cmocka_unit_test(test_decode_api_restrictions),
        cmocka_unit_test(test_key_not_read_only),
        cmocka_unit_test(test_account_uid),
        cmocka_unit_test(test_ed25519_key),
        cmocka_unit_test(test_sign_rejects_bad_input),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_paging_and_audit),
        cmocka_unit_test(test_dedup_by_symbol_and_id),
        cmocka_unit_test(test_symbols_all),
        cmocka_unit_test(test_partial_history_fails),
        cmocka_unit_test(test_client_symbol_not_listed),
        cmocka_unit_test(test_client_symbol_not_listed_full_list),
        cmocka_unit_test(test_client_symbols_malformed),
        cmocka_unit_test(test_too_many_symbols),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_key_with_control_characters),
        cmocka_unit_test(test_clock_skew_retried),
        cmocka_unit_test(test_server_errors_unavailable),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_malformed_trades),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_nothing_listening),
        cmocka_unit_test(test_slow_times_out),
        cmocka_unit_test(test_5xx_burst_retried),
        cmocka_unit_test(test_418_bans_the_host),
        cmocka_unit_test(test_451_region_blocked),
        cmocka_unit_test(test_weight_budget_paces),
        cmocka_unit_test(test_progress_hook),
        cmocka_unit_test(test_invalid_parameters),
    };
    int failed = cmocka_run_group_tests(tests, sim_start, sim_stop);
    curl_global_cleanup();
    return failed;
}
