/* tools/binance_sim.py for C tests: a separate process speaking Binance's
 * HTTP API (never an in-process mock), on a free port of 127.0.0.1, started
 * with pa_test_fork so it cannot outlive the test (test_child.h). */
#ifndef PA_TEST_SIM_H
#define PA_TEST_SIM_H

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_child.h"

#define PA_TEST_SIM_SCRIPT PA_SOURCE_DIR "/tools/binance_sim.py"

/* Serves the accounts file at accounts_path (HTTPS when tls_cert and tls_key
 * are given), logging to dir/sim.log. Returns the port, or -1; *pid is the
 * simulator's (-1 when it could not start or exited early). */
static int pa_test_sim_start(const char *dir, const char *accounts_path, const char *tls_cert,
                             const char *tls_key, pid_t *pid)
{
    char port_file[256], log_file[256];
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(log_file, sizeof log_file, "%s/sim.log", dir);
    *pid = pa_test_fork(600);
    if (*pid < 0)
        return -1;
    if (*pid == 0) {
        int fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (tls_cert != NULL && tls_key != NULL)
            execl("/usr/bin/python3", "python3", PA_TEST_SIM_SCRIPT, "--accounts", accounts_path,
                  "--host", "127.0.0.1", "--port", "0", "--port-file", port_file, "--tls-cert",
                  tls_cert, "--tls-key", tls_key, (char *)NULL);
        else
            execl("/usr/bin/python3", "python3", PA_TEST_SIM_SCRIPT, "--accounts", accounts_path,
                  "--host", "127.0.0.1", "--port", "0", "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    /* The simulator writes the port file atomically once it listens. */
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(port_file, "r");
        if (f != NULL) {
            int port = 0;
            int n = fscanf(f, "%d", &port);
            fclose(f);
            if (n == 1 && port > 0)
                return port;
        }
        int status;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = -1;
            fprintf(stderr, "binance_sim.py exited early; its log %s:\n", log_file);
            FILE *lf = fopen(log_file, "r"); /* the directory is removed with the fixture */
            if (lf != NULL) {
                char line[512];
                while (fgets(line, sizeof line, lf) != NULL)
                    fputs(line, stderr);
                fclose(lf);
            }
            return -1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "binance_sim.py did not start within 15 s; see %s\n", log_file);
    return -1;
}

/* A simulator in a directory of its own: the usual fixture of a test group. */
typedef struct {
    char dir[64];
    pid_t pid;
    char base_url[64]; /* http://127.0.0.1:PORT */
} pa_test_sim;

/* mkdtemp(dir_template) (e.g. "/tmp/pa_test_x_XXXXXX"), accounts_doc written
 * to its accounts.json (the reference is taken), the simulator started on it.
 * 0, or -1 with nothing left running. */
static inline int pa_test_sim_up(pa_test_sim *s, const char *dir_template, json_t *accounts_doc)
{
    s->pid = -1;
    snprintf(s->dir, sizeof s->dir, "%s", dir_template);
    char accounts[128];
    int rc = -1;
    if (accounts_doc != NULL && mkdtemp(s->dir) != NULL) {
        snprintf(accounts, sizeof accounts, "%s/accounts.json", s->dir);
        rc = json_dump_file(accounts_doc, accounts, JSON_COMPACT);
    }
    json_decref(accounts_doc);
    if (rc != 0)
        return -1;
    int port = pa_test_sim_start(s->dir, accounts, NULL, NULL, &s->pid);
    if (port < 0)
        return -1;
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", port);
    return 0;
}

/* Stops the simulator and removes its directory. */
static inline void pa_test_sim_down(pa_test_sim *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        pa_test_wait(s->pid, NULL);
        s->pid = -1;
    }
    static const char *const files[] = {"accounts.json", "port", "sim.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", s->dir, files[i]);
        unlink(p);
    }
    rmdir(s->dir);
}

#endif
