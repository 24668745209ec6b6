/* RFC 6962 Merkle Tree Hash and the per-run audit log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "codec.h"
#include "merkle.h"

/* The reference tree of Certificate Transparency
 * (google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc:
 * kInputs, kSHA256EmptyTreeHash, kSHA256Roots), the vectors every RFC 6962
 * implementation checks itself against. */
static const char *const CT_INPUTS[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char CT_EMPTY_ROOT[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const CT_ROOTS[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void hex_of(const uint8_t h[PA_HASH_LEN], char out[2 * PA_HASH_LEN + 1])
{
    pa_hex_encode(h, PA_HASH_LEN, out);
}

static void assert_hash_hex(const uint8_t h[PA_HASH_LEN], const char *want)
{
    char hex[2 * PA_HASH_LEN + 1];
    hex_of(h, hex);
    assert_string_equal(hex, want);
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen, const void *c,
                   size_t clen, uint8_t out[PA_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, c, clen), 1);
    unsigned int len = 0;
    assert_int_equal(EVP_DigestFinal_ex(ctx, out, &len), 1);
    EVP_MD_CTX_free(ctx);
}

static void test_ct_reference_roots(void **state)
{
    (void)state;
    uint8_t bytes[8][16];
    pa_bytes leaves[8];
    for (size_t i = 0; i < 8; i++) {
        size_t len = strlen(CT_INPUTS[i]) / 2;
        assert_int_equal(pa_hex_decode_exact(CT_INPUTS[i], bytes[i], len), 0);
        leaves[i].data = bytes[i];
        leaves[i].len = len;
    }
    uint8_t root[PA_HASH_LEN];
    assert_int_equal(pa_merkle_root(leaves, 0, root), 0);
    assert_hash_hex(root, CT_EMPTY_ROOT);
    assert_int_equal(pa_merkle_root(NULL, 0, root), 0);
    assert_hash_hex(root, CT_EMPTY_ROOT);
    for (size_t n = 1; n <= 8; n++) {
        assert_int_equal(pa_merkle_root(leaves, n, root), 0);
        assert_hash_hex(root, CT_ROOTS[n - 1]);
    }
    /* A one-leaf tree's root is its leaf hash. */
    uint8_t leaf[PA_HASH_LEN];
    pa_merkle_leaf_hash(bytes[0], 0, leaf);
    assert_hash_hex(leaf, CT_ROOTS[0]);
    pa_merkle_leaf_hash(NULL, 0, leaf);
    assert_hash_hex(leaf, CT_ROOTS[0]);
}

static void test_formulas(void **state)
{
    (void)state;
    /* leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r), and a
     * 3-leaf tree splits 2 + 1: MTH = node(node(l0, l1), l2). */
    const uint8_t d[3][2] = {{'a', 'b'}, {'c', 'd'}, {'e', 'f'}};
    const uint8_t zero = 0x00, one = 0x01;
    uint8_t l[3][PA_HASH_LEN], n01[PA_HASH_LEN], want[PA_HASH_LEN], got[PA_HASH_LEN];
    pa_bytes leaves[3];
    for (int i = 0; i < 3; i++) {
        sha256(&zero, 1, d[i], 2, "", 0, l[i]);
        pa_merkle_leaf_hash(d[i], 2, got);
        assert_memory_equal(got, l[i], PA_HASH_LEN);
        leaves[i].data = d[i];
        leaves[i].len = 2;
    }
    sha256(&one, 1, l[0], PA_HASH_LEN, l[1], PA_HASH_LEN, n01);
    sha256(&one, 1, n01, PA_HASH_LEN, l[2], PA_HASH_LEN, want);
    assert_int_equal(pa_merkle_root(leaves, 3, got), 0);
    assert_memory_equal(got, want, PA_HASH_LEN);

    /* Domain separation: one leaf holding l0 || l1 is not the 2-leaf tree. */
    uint8_t concat[2 * PA_HASH_LEN];
    memcpy(concat, l[0], PA_HASH_LEN);
    memcpy(concat + PA_HASH_LEN, l[1], PA_HASH_LEN);
    pa_bytes forged = {concat, sizeof concat};
    assert_int_equal(pa_merkle_root(&forged, 1, got), 0);
    assert_memory_not_equal(got, n01, PA_HASH_LEN);
    assert_int_equal(pa_merkle_root(leaves, 2, got), 0);
    assert_memory_equal(got, n01, PA_HASH_LEN);
}

/* A second, independent MTH: level by level, pairing neighbours and lifting
 * an unpaired last node unchanged. RFC 6962's recursive split and this give
 * the same tree; comparing them over many sizes exercises every split shape. */
static void bottom_up_root(const pa_bytes *leaves, size_t n, uint8_t out[PA_HASH_LEN])
{
    const uint8_t zero = 0x00, one = 0x01;
    uint8_t(*level)[PA_HASH_LEN] = malloc(n * PA_HASH_LEN);
    assert_non_null(level);
    for (size_t i = 0; i < n; i++)
        sha256(&zero, 1, leaves[i].data, leaves[i].len, "", 0, level[i]);
    size_t m = n;
    while (m > 1) {
        size_t w = 0;
        for (size_t i = 0; i + 1 < m; i += 2)
            sha256(&one, 1, level[i], PA_HASH_LEN, level[i + 1], PA_HASH_LEN, level[w++]);
        if (m % 2 == 1)
            memmove(level[w++], level[m - 1], PA_HASH_LEN);
        m = w;
    }
    memcpy(out, level[0], PA_HASH_LEN);
    free(level);
}

static void test_matches_bottom_up_for_many_sizes(void **state)
{
    (void)state;
    enum { MAX = 300 };
    static uint8_t data[MAX][4];
    pa_bytes leaves[MAX];
    for (size_t i = 0; i < MAX; i++) {
        data[i][0] = (uint8_t)i;
        data[i][1] = (uint8_t)(i >> 8);
        data[i][2] = (uint8_t)(i * 7);
        leaves[i].data = data[i];
        leaves[i].len = 1 + i % 4; /* lengths 1..4 */
    }
    uint8_t a[PA_HASH_LEN], b[PA_HASH_LEN], prev[PA_HASH_LEN] = {0};
    for (size_t n = 1; n <= MAX; n++) {
        assert_int_equal(pa_merkle_root(leaves, n, a), 0);
        bottom_up_root(leaves, n, b);
        assert_memory_equal(a, b, PA_HASH_LEN);
        assert_memory_not_equal(a, prev, PA_HASH_LEN); /* every leaf counts */
        memcpy(prev, a, PA_HASH_LEN);
    }
}

static void test_order_and_content_matter(void **state)
{
    (void)state;
    const uint8_t x = 'x', y = 'y';
    pa_bytes xy[2] = {{&x, 1}, {&y, 1}}, yx[2] = {{&y, 1}, {&x, 1}};
    uint8_t r1[PA_HASH_LEN], r2[PA_HASH_LEN];
    assert_int_equal(pa_merkle_root(xy, 2, r1), 0);
    assert_int_equal(pa_merkle_root(yx, 2, r2), 0);
    assert_memory_not_equal(r1, r2, PA_HASH_LEN);
    /* An empty leaf is a leaf: [x] and [x, ""] differ. */
    pa_bytes x_empty[2] = {{&x, 1}, {NULL, 0}};
    assert_int_equal(pa_merkle_root(x_empty, 1, r1), 0);
    assert_int_equal(pa_merkle_root(x_empty, 2, r2), 0);
    assert_memory_not_equal(r1, r2, PA_HASH_LEN);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t root[PA_HASH_LEN];
    pa_bytes broken = {NULL, 5};
    assert_int_equal(pa_merkle_root(NULL, 1, root), -1);
    assert_int_equal(pa_merkle_root(&broken, 1, root), -1);
    pa_bytes one = {(const uint8_t *)"a", 1};
    assert_int_equal(pa_merkle_root(&one, 1, NULL), -1);
    assert_int_equal(pa_audit_root(NULL, root), -1);
    assert_int_equal(pa_audit_append(NULL, json_null()), -1);
}

/* ------------------------------------------------------------ audit log */

/* A run's log as the enclave keeps it, with each entry's JCS text, leaf hash
 * and the root, all computed with Python's hashlib (an implementation that
 * shares nothing with ours); docs/PROTOCOL.md shows the same. */
static const char *const RUN_JCS[4] = {
    "{\"count\":1000,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":28457,\"last_id\":29456,"
    "\"page\":1,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}",
    "{\"count\":12,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":29457,\"last_id\":29468,"
    "\"page\":2,\"symbol\":\"BTCUSDT\",\"type\":\"fetch\"}",
    "{\"count\":5,\"endpoint\":\"/api/v3/myTrades\",\"first_id\":100,\"last_id\":104,"
    "\"page\":1,\"symbol\":\"ETHUSDT\",\"type\":\"fetch\"}",
    "{\"fills\":1017,\"from\":\"2024-01-01T00:00:00.000Z\",\"symbols\":[\"BTCUSDT\",\"ETHUSDT\"],"
    "\"to\":\"2024-02-01T00:00:00.000Z\",\"type\":\"window\"}",
};
static const char *const RUN_LEAVES[4] = {
    "c47b2b93cb1de738e7f9e1643e00c4c065c509d9758c6158ac9f77e283e554d2",
    "9997b0f838395dd714c181e57f8a5b6baa1c7719407b2af7f46c636dfa25aef2",
    "e24bd56572ed377a231bf067b549594cae2cc5ca4e6750ff4325abe8d55ab10f",
    "c8ae9edf865fb4fa6580162eaa5e88c643801e75b8a6cfaa845d99d22a1e29b1",
};
static const char RUN_ROOT[] = "350b370a210ffec682ea8a6eb8d856370e3369a2a5dbead51172dc90180ffa0d";
static const char RUN_ROOT_3[] = "4a477586ce0cf9643a1e60f483f6746245ba23d859fefacfd5ea78d220fb92aa";

static void append_run(pa_audit_log *log)
{
    /* Built in a different member order from the canonical one. */
    json_t *e[4] = {
        json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I}", "type", "fetch", "endpoint",
                  "/api/v3/myTrades", "symbol", "BTCUSDT", "page", 1, "count", 1000, "first_id",
                  (json_int_t)28457, "last_id", (json_int_t)29456),
        json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I}", "type", "fetch", "endpoint",
                  "/api/v3/myTrades", "symbol", "BTCUSDT", "page", 2, "count", 12, "first_id",
                  (json_int_t)29457, "last_id", (json_int_t)29468),
        json_pack("{s:I, s:I, s:i, s:i, s:s, s:s, s:s}", "last_id", (json_int_t)104, "first_id",
                  (json_int_t)100, "count", 5, "page", 1, "symbol", "ETHUSDT", "endpoint",
                  "/api/v3/myTrades", "type", "fetch"),
        json_pack("{s:s, s:s, s:s, s:[s,s], s:I}", "type", "window", "from",
                  "2024-01-01T00:00:00.000Z", "to", "2024-02-01T00:00:00.000Z", "symbols",
                  "BTCUSDT", "ETHUSDT", "fills", (json_int_t)1017),
    };
    for (int i = 0; i < 4; i++) {
        assert_non_null(e[i]);
        assert_int_equal(pa_audit_append(log, e[i]), 0);
        json_decref(e[i]);
    }
}

static void test_audit_log_run(void **state)
{
    (void)state;
    pa_audit_log log;
    pa_audit_init(&log);
    uint8_t root[PA_HASH_LEN];
    assert_int_equal(pa_audit_root(&log, root), 0);
    assert_hash_hex(root, CT_EMPTY_ROOT);

    append_run(&log);
    assert_int_equal(log.len, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(log.entries[i], RUN_JCS[i]);
        uint8_t leaf[PA_HASH_LEN];
        pa_merkle_leaf_hash((const uint8_t *)log.entries[i], strlen(log.entries[i]), leaf);
        assert_hash_hex(leaf, RUN_LEAVES[i]);
    }
    assert_int_equal(pa_audit_root(&log, root), 0);
    assert_hash_hex(root, RUN_ROOT);

    /* Same thing through the byte-string interface. */
    pa_bytes leaves[4];
    for (size_t i = 0; i < 4; i++) {
        leaves[i].data = (const uint8_t *)RUN_JCS[i];
        leaves[i].len = strlen(RUN_JCS[i]);
    }
    assert_int_equal(pa_merkle_root(leaves, 4, root), 0);
    assert_hash_hex(root, RUN_ROOT);
    assert_int_equal(pa_merkle_root(leaves, 3, root), 0);
    assert_hash_hex(root, RUN_ROOT_3);

    pa_audit_free(&log);
    assert_null(log.entries);
    assert_int_equal(log.len, 0);
    pa_audit_free(&log); /* twice is harmless */
}

static void test_audit_rejects_what_has_no_canonical_form(void **state)
{
    (void)state;
    pa_audit_log log;
    pa_audit_init(&log);
    append_run(&log);
    json_t *bad = json_pack("{s:s, s:o}", "type", "fetch", "symbol", json_string_nocheck("\xff"));
    assert_int_equal(pa_audit_append(&log, bad), -1);
    assert_int_equal(pa_audit_append(&log, NULL), -1);
    assert_int_equal(log.len, 4); /* nothing half-added */
    uint8_t root[PA_HASH_LEN];
    assert_int_equal(pa_audit_root(&log, root), 0);
    assert_hash_hex(root, RUN_ROOT);
    json_decref(bad);
    pa_audit_free(&log);
}

static void test_audit_cap(void **state)
{
    (void)state;
    pa_audit_log log;
    pa_audit_init(&log);
    for (size_t i = 0; i < PA_AUDIT_MAX_ENTRIES; i++) {
        json_t *e = json_integer((json_int_t)i);
        assert_int_equal(pa_audit_append(&log, e), 0);
        json_decref(e);
    }
    json_t *extra = json_integer(-1);
    assert_int_equal(pa_audit_append(&log, extra), -1);
    json_decref(extra);
    assert_int_equal(log.len, PA_AUDIT_MAX_ENTRIES);
    assert_string_equal(log.entries[PA_AUDIT_MAX_ENTRIES - 1], "99999");

    /* The full log still hashes, and agrees with the byte-string interface. */
    pa_bytes *leaves = calloc(PA_AUDIT_MAX_ENTRIES, sizeof *leaves);
    assert_non_null(leaves);
    for (size_t i = 0; i < log.len; i++) {
        leaves[i].data = (const uint8_t *)log.entries[i];
        leaves[i].len = strlen(log.entries[i]);
    }
    uint8_t a[PA_HASH_LEN], b[PA_HASH_LEN];
    assert_int_equal(pa_audit_root(&log, a), 0);
    assert_int_equal(pa_merkle_root(leaves, log.len, b), 0);
    assert_memory_equal(a, b, PA_HASH_LEN);
    free(leaves);
    pa_audit_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_reference_roots),
        cmocka_unit_test(test_formulas),
        cmocka_unit_test(test_matches_bottom_up_for_many_sizes),
        cmocka_unit_test(test_order_and_content_matter),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_audit_log_run),
        cmocka_unit_test(test_audit_rejects_what_has_no_canonical_form),
        cmocka_unit_test(test_audit_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
