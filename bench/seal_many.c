/* seal_many: N distinct submit_key bodies sealed to one enclave key, one JSON
 * body per line, for the submit_key run of `make bench` (scripts/bench.sh).
 * Every body has its own ephemeral key, so each is a first submission: a
 * replayed body would measure the 409 path instead.
 *
 * Usage: seal_many --enclave-pubkey B64 --count N --api-key-file F
 *                  --api-secret-file F --out FILE
 * The secrets are read from files (never the command line) through the
 * client library, as `perfagg seal` does; bench accounts hold no real keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "perfagg_client.h"

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *pub_b64 = opt(argc, argv, "--enclave-pubkey");
    const char *count_s = opt(argc, argv, "--count");
    const char *key_file = opt(argc, argv, "--api-key-file");
    const char *secret_file = opt(argc, argv, "--api-secret-file");
    const char *out_path = opt(argc, argv, "--out");
    uint8_t pub[32];
    char *end = NULL;
    long count = count_s != NULL ? strtol(count_s, &end, 10) : 0;
    if (count_s != NULL && (end == count_s || *end != '\0'))
        count = 0;
    if (pub_b64 == NULL || key_file == NULL || secret_file == NULL || out_path == NULL ||
        count < 1 || count > 10000000 || pa_b64_decode_exact(pub_b64, pub, sizeof pub) != 0) {
        fprintf(stderr, "usage: seal_many --enclave-pubkey B64 --count N --api-key-file F "
                        "--api-secret-file F --out FILE\n");
        return 2;
    }

    int rc = 1;
    FILE *out = NULL;
    pa_client_error err;
    memset(&err, 0, sizeof err);
    pa_buf key, secret;
    pa_buf_init(&key, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&secret, PA_CLIENT_SECRET_MAX);
    if (pa_client_read_secrets(key_file, secret_file, NULL, &key, &secret, NULL, &err) != 0)
        goto cleanup;
    out = fopen(out_path, "w");
    if (out == NULL) {
        perror(out_path);
        goto cleanup;
    }
    for (long i = 0; i < count; i++) {
        char label[32];
        snprintf(label, sizeof label, "bench-%ld", i);
        pa_client_submission in = {
            .exchange = "binance",
            .label = label,
            .ttl = 3600,
            .api_key = &key,
            .api_secret = &secret,
        };
        char *body = NULL;
        if (pa_client_seal(pub, &in, &body, &err) != 0)
            goto cleanup;
        /* one body per line: the wrk script splits the file on newlines */
        int bad = strchr(body, '\n') != NULL || fprintf(out, "%s\n", body) < 0;
        free(body);
        if (bad) {
            snprintf(err.message, sizeof err.message, "cannot write body %ld", i);
            goto cleanup;
        }
    }
    if (fclose(out) != 0) {
        out = NULL;
        perror(out_path);
        goto cleanup;
    }
    out = NULL;
    rc = 0;
cleanup:
    if (rc != 0 && err.message[0] != '\0')
        fprintf(stderr, "seal_many: %s\n", err.message);
    if (out != NULL)
        fclose(out);
    pa_buf_free(&key);
    pa_buf_free(&secret);
    return rc;
}
