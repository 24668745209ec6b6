/* The supervisor's back-off (src/server/supervisor.c): bounded, growing on
 * quick successive crashes, reset after a healthy run; and a supervised
 * program that keeps dying is started again and again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor.h"

static void test_backoff(void **state)
{
    (void)state;
    int64_t b = pa_supervisor_backoff(0, 10);
    assert_int_equal(b, PA_SUPERVISOR_BACKOFF_MIN_MS);
    int64_t seen[12];
    for (int i = 0; i < 12; i++) {
        seen[i] = b;
        b = pa_supervisor_backoff(b, 10);
    }
    assert_int_equal(seen[1], 2 * PA_SUPERVISOR_BACKOFF_MIN_MS);
    for (int i = 1; i < 12; i++)
        assert_true(seen[i] >= seen[i - 1] && seen[i] <= PA_SUPERVISOR_BACKOFF_MAX_MS);
    assert_int_equal(seen[11], PA_SUPERVISOR_BACKOFF_MAX_MS);
    /* a run longer than the healthy threshold starts over */
    assert_int_equal(
        pa_supervisor_backoff(PA_SUPERVISOR_BACKOFF_MAX_MS, PA_SUPERVISOR_HEALTHY_RUN_MS),
        PA_SUPERVISOR_BACKOFF_MIN_MS);
}

/* A program that appends a line to a file and dies at once: the supervisor
 * starts it again and again (each run leaves a line). */
static void test_restarts_a_dying_program(void **state)
{
    (void)state;
    char dir[] = "/tmp/pa-sup.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char prog[256], marks[256];
    snprintf(prog, sizeof prog, "%s/die.sh", dir);
    snprintf(marks, sizeof marks, "%s/runs", dir);
    FILE *f = fopen(prog, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\necho run >> %s\nexit 3\n", marks);
    fclose(f);
    assert_int_equal(chmod(prog, 0700), 0);

    pa_supervisor *s = pa_supervisor_start(prog);
    assert_non_null(s);
    int runs = 0;
    for (int i = 0; i < 100 && runs < 3; i++) { /* 0.1 + 0.2 + 0.4 s of back-off */
        usleep(50 * 1000);
        runs = 0;
        FILE *m = fopen(marks, "r");
        char line[16];
        while (m != NULL && fgets(line, sizeof line, m) != NULL)
            runs++;
        if (m != NULL)
            fclose(m);
    }
    pa_supervisor_stop(s, 1000);
    assert_true(runs >= 3);
    unlink(prog);
    unlink(marks);
    rmdir(dir);
}

static void test_not_executable_refused(void **state)
{
    (void)state;
    assert_null(pa_supervisor_start("/nonexistent/perfagg-enclave"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_restarts_a_dying_program),
        cmocka_unit_test(test_not_executable_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
