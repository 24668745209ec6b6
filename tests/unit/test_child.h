/* Child processes of C tests that cannot outlive or hang the test.
 *
 * A failed cmocka assertion longjmps past the code that would stop a forked
 * stand-in server or wait for a CLI run, and CTest waits for every process
 * holding the test's output pipe. So every child: dies with its parent
 * (PR_SET_PDEATHSIG), has an alarm that ends it after max_seconds even if
 * the parent is stuck waiting for it, and is killed at the test's exit if it
 * is still registered. */
#ifndef PA_TEST_CHILD_H
#define PA_TEST_CHILD_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PA_TEST_CHILDREN_MAX 64

static pid_t pa_test_children[PA_TEST_CHILDREN_MAX];

static void pa_test_kill_children(void)
{
    for (int i = 0; i < PA_TEST_CHILDREN_MAX; i++) {
        if (pa_test_children[i] > 0) {
            kill(pa_test_children[i], SIGKILL);
            waitpid(pa_test_children[i], NULL, 0);
            pa_test_children[i] = 0;
        }
    }
}

/* fork() for tests: 0 in the child (which is killed after max_seconds, and
 * when the test process dies), the pid in the parent, -1 on failure. */
static pid_t pa_test_fork(unsigned max_seconds)
{
    static int registered;
    if (!registered) {
        atexit(pa_test_kill_children);
        registered = 1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        memset(pa_test_children, 0, sizeof pa_test_children);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        alarm(max_seconds); /* survives execve */
        return 0;
    }
    if (pid > 0) {
        for (int i = 0; i < PA_TEST_CHILDREN_MAX; i++) {
            if (pa_test_children[i] == 0) {
                pa_test_children[i] = pid;
                break;
            }
        }
    }
    return pid;
}

/* waitpid() for a child of pa_test_fork, which is then forgotten. */
static pid_t pa_test_wait(pid_t pid, int *status)
{
    pid_t r = waitpid(pid, status, 0);
    for (int i = 0; i < PA_TEST_CHILDREN_MAX; i++) {
        if (pa_test_children[i] == pid)
            pa_test_children[i] = 0;
    }
    return r;
}

#endif
