/* The descriptor budget: the soft open-files limit is raised to the hard
 * one, and the connection limit leaves a reserve for enclave calls and
 * database connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/resource.h>

#include <cmocka.h>

#include "fdlimit.h"

static void test_connections(void **state)
{
    (void)state;
    /* the cap when descriptors are plenty */
    assert_int_equal(pa_fdlimit_connections(1048576, 88, 1024), 1024);
    assert_int_equal(pa_fdlimit_connections(1024 + 88, 88, 1024), 1024);
    /* the usual soft limit of 1024: the reserve comes off */
    assert_int_equal(pa_fdlimit_connections(1024, 88, 1024), 936);
    assert_int_equal(pa_fdlimit_connections(89, 88, 1024), 1);
    /* nothing left */
    assert_int_equal(pa_fdlimit_connections(88, 88, 1024), 0);
    assert_int_equal(pa_fdlimit_connections(10, 88, 1024), 0);
    assert_int_equal(pa_fdlimit_connections(-1, 88, 1024), 0);
    assert_int_equal(pa_fdlimit_connections(1L << 30, 0, 1024), 1024);
}

static void test_raise(void **state)
{
    (void)state;
    struct rlimit orig;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &orig), 0);
    if (orig.rlim_max < 128)
        skip();
    /* a low soft limit, as shells commonly give (1024) */
    struct rlimit low = {.rlim_cur = 64, .rlim_max = orig.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    long got = pa_fdlimit_raise();
    struct rlimit now;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
    assert_true(now.rlim_cur == orig.rlim_max);
    if (orig.rlim_max != RLIM_INFINITY && orig.rlim_max <= (rlim_t)(1L << 30))
        assert_int_equal(got, (long)orig.rlim_max);
    /* already at the hard limit: unchanged */
    assert_int_equal(pa_fdlimit_raise(), got);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &orig), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_raise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
