/* The nonce-less quote's memory (quote_cache.h): copies, the age bound, a
 * cleared cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "quote_cache.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_empty_then_put_then_copy(void **state)
{
    (void)state;
    pa_quote_cache *c = pa_quote_cache_new();
    assert_non_null(c);
    assert_null(pa_quote_cache_get(c, PA_QUOTE_CACHE_MAX_AGE_MS));
    pa_quote_cache_put(c, strdup("{\"quote\":\"a\"}"));
    char *a = pa_quote_cache_get(c, PA_QUOTE_CACHE_MAX_AGE_MS);
    char *b = pa_quote_cache_get(c, PA_QUOTE_CACHE_MAX_AGE_MS);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b); /* each reply owns its copy */
    assert_string_equal(a, "{\"quote\":\"a\"}");
    assert_string_equal(b, a);
    free(a);
    free(b);
    /* a newer document replaces the old one */
    pa_quote_cache_put(c, strdup("{\"quote\":\"b\"}"));
    a = pa_quote_cache_get(c, PA_QUOTE_CACHE_MAX_AGE_MS);
    assert_string_equal(a, "{\"quote\":\"b\"}");
    free(a);
    /* a failed round clears it */
    pa_quote_cache_put(c, NULL);
    assert_null(pa_quote_cache_get(c, PA_QUOTE_CACHE_MAX_AGE_MS));
    pa_quote_cache_free(c);
}

static void test_older_than_max_age_is_not_served(void **state)
{
    (void)state;
    pa_quote_cache *c = pa_quote_cache_new();
    assert_non_null(c);
    pa_quote_cache_put(c, strdup("{}"));
    sleep_ms(30);
    assert_null(pa_quote_cache_get(c, 10));
    char *x = pa_quote_cache_get(c, 60000);
    assert_non_null(x);
    free(x);
    pa_quote_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_then_put_then_copy),
        cmocka_unit_test(test_older_than_max_age_is_not_served),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
