/* A stand-in for libFuzzer's main, so every driver also builds with gcc and
 * runs in the normal test suite: each argument is a file or a directory
 * (whose regular files are taken in name order, not recursively), and every
 * file is passed once to LLVMFuzzerTestOneInput. A driver reports a broken
 * property by aborting, so the test fails on the first bad input; the name
 * of the file being run is printed first so that it can be found.
 *
 * Each input sits in a heap block of exactly its size, as under libFuzzer,
 * so a sanitizer build (make sanitize) catches reads past the end. Fails
 * when no input was found at all: an empty or misplaced corpus must not
 * pass silently. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT ((size_t)16 << 20)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    uint8_t *data = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: not a readable file of at most 16 MiB\n", path);
        goto cleanup;
    }
    size_t size = (size_t)st.st_size;
    /* malloc(0) may return NULL; a 1-byte block still has no readable byte
     * for the driver (size is 0). */
    data = malloc(size > 0 ? size : 1);
    if (data == NULL || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        goto cleanup;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    (void)LLVMFuzzerTestOneInput(data, size);
    rc = 0;
cleanup:
    free(data);
    fclose(f);
    return rc;
}

static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs every regular file of dir; adds the number run to *count. */
static int run_dir(const char *dir, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (rc == 0 && w > 0 && (size_t)w < sizeof path && is_regular(path)) {
            if (run_file(path) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i]);
        if (rc != 0)
            return 1;
        if (!S_ISDIR(st.st_mode))
            count++;
    }
    if (count == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s FILE-OR-DIR...)\n", argv[0]);
        return 1;
    }
    fprintf(stderr, "replay: %zu inputs, all passed\n", count);
    return 0;
}
