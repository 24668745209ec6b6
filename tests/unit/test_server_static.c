/* The browser pages' bundle loader (src/server/static_files.c): a real
 * directory with a manifest and files, loaded as the server loads it; every
 * refusal is a bundle the server must not serve. The headers on the wire are
 * checked by tests/browser (test_pages.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "codec.h"
#include "static_files.h"

static char dir[] = "/tmp/pa-static.XXXXXX";

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

static char *sha(const char *text)
{
    unsigned char md[48];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(text, strlen(text), md, &n, EVP_sha384(), NULL), 1);
    return pa_b64_encode(md, sizeof md);
}

#define HTML "<!doctype html><title>x</title>"
#define JS "console.log(1);\n"

/* A manifest naming index.html at "/" and app.js at "/assets/app.js", with
 * the given overrides spliced in as the second entry's extra text. */
static void good_bundle(void)
{
    put("index.html", HTML);
    put("assets/app.js", JS);
    char *h = sha(HTML), *j = sha(JS);
    char m[2048];
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/\",\"file\":\"index.html\",\"sha384\":\"%s\","
             "\"csp\":\"default-src 'none'; script-src 'self'\"},"
             "{\"path\":\"/assets/app.js\",\"file\":\"assets/app.js\",\"sha384\":\"%s\"}]}",
             h, j);
    put("manifest.json", m);
    free(h);
    free(j);
}

static void test_loads_and_finds_exact_paths(void **state)
{
    (void)state;
    good_bundle();
    pa_static s;
    char err[256] = "";
    assert_int_equal(pa_static_load(&s, dir, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    const pa_static_file *f = pa_static_find(&s, "/");
    assert_non_null(f);
    assert_int_equal(f->len, strlen(HTML));
    assert_memory_equal(f->data, HTML, f->len);
    assert_string_equal(f->content_type, "text/html; charset=utf-8");
    assert_string_equal(f->csp, "default-src 'none'; script-src 'self'");
    char *h = sha(HTML);
    char want[128];
    snprintf(want, sizeof want, "\"sha384-%s\"", h);
    free(h);
    assert_string_equal(f->etag, want);
    f = pa_static_find(&s, "/assets/app.js");
    assert_non_null(f);
    assert_string_equal(f->content_type, "text/javascript; charset=utf-8");
    assert_null(f->csp);
    /* exact paths only: no file names, prefixes, trailing slashes or case folding */
    const char *misses[] = {"/index.html", "/assets", "/assets/", "/assets/app.js/", "/Assets/app.js",
                            "//", "", "/manifest.json", "/assets/app.j", "/../index.html"};
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
        if (pa_static_find(&s, misses[i]) != NULL)
            fail_msg("%s must not be served", misses[i]);
    pa_static_free(&s);
    assert_int_equal(s.n, 0);
}

static void expect_refused(const char *manifest, const char *why)
{
    put("manifest.json", manifest);
    pa_static s;
    char err[256] = "";
    if (pa_static_load(&s, dir, err, sizeof err) == 0)
        fail_msg("loaded a bundle that must be refused: %s", why);
    assert_int_equal(s.n, 0);
    assert_true(strlen(err) > 0);
}

static void test_refuses_bad_bundles(void **state)
{
    (void)state;
    good_bundle();
    char *h = sha(HTML), *j = sha(JS);
    char m[2048];
    expect_refused("not json", "not JSON");
    expect_refused("{\"version\":2,\"files\":[]}", "another version");
    expect_refused("{\"version\":1,\"files\":[]}", "no files");
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/\",\"file\":\"index.html\",\"sha384\":\"%s\","
             "\"csp\":\"x\"}]}",
             j);
    expect_refused(m, "a hash that does not match the file");
    snprintf(m, sizeof m, "{\"version\":1,\"files\":[{\"path\":\"/\",\"file\":\"index.html\",\"sha384\":\"%s\"}]}",
             h);
    expect_refused(m, "an HTML file without a CSP");
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/\",\"file\":\"index.html\",\"sha384\":\"%s\","
             "\"csp\":\"a\\r\\nSet-Cookie: x\"}]}",
             h);
    expect_refused(m, "a CSP that would split the header");
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/a\",\"file\":\"assets/app.js\",\"sha384\":\"%s\","
             "\"csp\":\"x\"}]}",
             j);
    expect_refused(m, "a CSP on a script");
    const char *bad_files[] = {"../index.html", "/etc/passwd", "assets/../index.html", ".hidden.js",
                               "assets//app.js", "assets/app.js/", "app.exe", "manifest.json"};
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        snprintf(m, sizeof m,
                 "{\"version\":1,\"files\":[{\"path\":\"/x\",\"file\":\"%s\",\"sha384\":\"%s\"}]}",
                 bad_files[i], j);
        expect_refused(m, bad_files[i]);
    }
    const char *bad_paths[] = {"x", "/a/../b", "/a b", "/a?b", ""};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        snprintf(m, sizeof m,
                 "{\"version\":1,\"files\":[{\"path\":\"%s\",\"file\":\"assets/app.js\",\"sha384\":\"%s\"}]}",
                 bad_paths[i], j);
        expect_refused(m, bad_paths[i]);
    }
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/a\",\"file\":\"assets/app.js\",\"sha384\":\"%s\"},"
             "{\"path\":\"/a\",\"file\":\"assets/app.js\",\"sha384\":\"%s\"}]}",
             j, j);
    expect_refused(m, "a path named twice");
    snprintf(m, sizeof m,
             "{\"version\":1,\"files\":[{\"path\":\"/a\",\"file\":\"missing.js\",\"sha384\":\"%s\"}]}", j);
    expect_refused(m, "a missing file");
    free(h);
    free(j);
}

static void test_etag_matching(void **state)
{
    (void)state;
    const char *e = "\"sha384-abc\"";
    assert_true(pa_static_etag_matches("\"sha384-abc\"", e));
    assert_true(pa_static_etag_matches("W/\"sha384-abc\"", e));
    assert_true(pa_static_etag_matches("\"x\", \"sha384-abc\"", e));
    assert_true(pa_static_etag_matches("*", e));
    assert_false(pa_static_etag_matches(NULL, e));
    assert_false(pa_static_etag_matches("", e));
    assert_false(pa_static_etag_matches("\"sha384-ab\"", e));
    assert_false(pa_static_etag_matches("sha384-abc", e));
    assert_false(pa_static_etag_matches("\"sha384-abc\"x", e));
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_finds_exact_paths),
        cmocka_unit_test(test_refuses_bad_bundles),
        cmocka_unit_test(test_etag_matching),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc != 0 ? rc : 1;
    return rc;
}
