/* aggregate_profile: the enclave's aggregate operation in-process, for
 * `make profile` (scripts/profile.sh) under valgrind --tool=callgrind, whose
 * instruction counts, unlike a sampling profile's times, are the same from
 * one run to the next on a busy machine.
 *
 *   aggregate_profile EXCHANGE_URL API_KEY_FILE API_SECRET_FILE SYMBOLS [RUNS]
 *
 * It sets up an enclave as main.c does (wiping allocators, a development
 * attestation platform in a temporary directory, fresh keys), seals the
 * credentials (with the comma-separated SYMBOLS) to it as a client would,
 * and hands RUNS (1) `aggregate` requests over the last 30 days (the
 * server's default window) to pa_enclave_handle, the very function that
 * answers the enclave's IPC frames, against EXCHANGE_URL (the simulator),
 * directly: no relay, no socket to the host, no sandbox. Each answer must be
 * a signed result; it prints {"runs", "fills", "seconds"} as JSON. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "codec.h"
#include "enclave_ops.h"
#include "envelope_keys.h"
#include "envelope_seal.h"
#include "ipc_host.h"
#include "json_strict.h"
#include "log.h"
#include "secure_alloc.h"
#include "timeutil.h"

#define WINDOW_MS (30LL * 86400 * 1000)

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The first line of a small file, without its newline. */
static char *read_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char buf[1024];
    char *r = fgets(buf, sizeof buf, f) != NULL ? buf : NULL;
    fclose(f);
    if (r == NULL)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    char *out = strdup(buf);
    OPENSSL_cleanse(buf, sizeof buf);
    return out;
}

static int setup(pa_enclave *e, const char *exchange_url)
{
    e->envelope_key = pa_x25519_generate();
    e->signing_key = pa_ed25519_generate();
    PA_ENSURE(e->envelope_key != NULL && e->signing_key != NULL);
    PA_GUARD(pa_raw_public_key(e->envelope_key, e->enclave_pub));
    PA_GUARD(pa_raw_public_key(e->signing_key, e->signing_pub));
    e->enclave_pub_b64 = pa_b64_encode(e->enclave_pub, 32);
    e->signing_pub_b64 = pa_b64_encode(e->signing_pub, 32);
    PA_ENSURE(e->enclave_pub_b64 != NULL && e->signing_pub_b64 != NULL);
    char dir[] = "/tmp/pa-aggregate-profile.XXXXXX";
    PA_ENSURE(mkdtemp(dir) != NULL);
    char ca_dir[sizeof dir + 16];
    snprintf(ca_dir, sizeof ca_dir, "%s/dev-attest", dir);
    e->platform = pa_attest_dev_open(ca_dir, "/proc/self/exe");
    /* the platform keeps its keys in memory */
    PA_ENSURE(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0 && e->platform != NULL);
    e->dev_platform = 1;
    pa_hex_encode(pa_attest_pcr0(e->platform), PA_PCR_LEN, e->image_hash);
    e->binance_base_url = exchange_url;
    e->development_build = 1;
    e->exchange_timeout_ms = 30000;
    e->weight_budget = 10000000; /* as make bench: Binance's limits are not measured */
    return 0;
}

/* The aggregate request frame for credentials sealed to e. */
static char *request(const pa_enclave *e, const char *key, const char *secret, const char *symbols)
{
    json_t *syms = json_array();
    char *list = strdup(symbols);
    for (char *s = list, *next; s != NULL && *s != '\0'; s = next) {
        next = strchr(s, ',');
        if (next != NULL)
            *next++ = '\0';
        json_array_append_new(syms, json_string(s));
    }
    free(list);
    json_t *creds = json_pack("{s:s, s:s, s:s, s:o}", "exchange", "binance", "apiKey", key,
                              "apiSecret", secret, "symbols", syms);
    json_t *meta = json_pack("{s:s, s:s, s:s}", "exchange", "binance", "label", "profile",
                             "not_after", "2099-01-01T00:00:00.000Z");
    char *plain = creds != NULL ? json_dumps(creds, JSON_COMPACT) : NULL;
    json_decref(creds);
    pa_envelope env;
    memset(&env, 0, sizeof env);
    char *frame = NULL;
    if (plain != NULL && meta != NULL &&
        pa_envelope_seal(e->enclave_pub, meta, (const uint8_t *)plain, strlen(plain), &env) == 0) {
        char from[PA_TIME_STR_LEN], to[PA_TIME_STR_LEN];
        int64_t now = pa_now_ms() - 1000;
        pa_time_format(now - WINDOW_MS, from);
        pa_time_format(now, to);
        json_t *envj = pa_envelope_to_json(&env);
        json_t *req = pa_ipc_request_aggregate(envj, e->enclave_pub_b64, from, to, NULL);
        frame = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        json_decref(envj);
    }
    if (plain != NULL) {
        OPENSSL_cleanse(plain, strlen(plain));
        free(plain);
    }
    pa_envelope_free(&env);
    json_decref(meta);
    return frame;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: aggregate_profile EXCHANGE_URL API_KEY_FILE API_SECRET_FILE "
                        "SYMBOLS [RUNS]\n");
        return 2;
    }
    char *end = NULL;
    long runs = argc == 6 ? strtol(argv[5], &end, 10) : 1;
    if (runs < 1 || runs > 1000 || (end != NULL && *end != '\0')) {
        fprintf(stderr, "aggregate_profile: RUNS must be 1..1000\n");
        return 2;
    }
    if (pa_secure_alloc_install() != 0)
        return 1;
    pa_log_set_component("aggregate-profile");
    static pa_enclave e;
    char *key = read_line(argv[2]), *secret = read_line(argv[3]);
    char *frame = NULL;
    int rc = 1;
    if (key == NULL || secret == NULL || setup(&e, argv[1]) != 0) {
        fprintf(stderr, "aggregate_profile: set-up failed\n");
        goto cleanup;
    }
    frame = request(&e, key, secret, argv[4]);
    if (frame == NULL) {
        fprintf(stderr, "aggregate_profile: cannot build the request\n");
        goto cleanup;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_int_t fills = -1;
    for (long i = 0; i < runs; i++) {
        char *resp = pa_enclave_handle(&e, frame, strlen(frame));
        json_t *a = resp != NULL ? pa_json_parse(resp, strlen(resp), 64u << 20) : NULL;
        const char *jcs = pa_json_str(a, "payload_jcs");
        json_t *payload = jcs != NULL ? pa_json_parse(jcs, strlen(jcs), 64u << 20) : NULL;
        if (!json_is_true(json_object_get(a, "ok")) || payload == NULL) {
            fprintf(stderr, "aggregate_profile: run %ld: %.300s\n", i + 1, resp ? resp : "(null)");
            json_decref(payload);
            json_decref(a);
            free(resp);
            goto cleanup;
        }
        fills = json_integer_value(json_object_get(payload, "trades"));
        json_decref(payload);
        json_decref(a);
        free(resp);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("{\"runs\": %ld, \"fills\": %lld, \"seconds\": %.3f}\n", runs, (long long)fills,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    rc = 0;
cleanup:
    if (secret != NULL) {
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    free(key);
    free(frame);
    EVP_PKEY_free(e.envelope_key);
    EVP_PKEY_free(e.signing_key);
    free(e.enclave_pub_b64);
    free(e.signing_pub_b64);
    if (e.platform != NULL)
        pa_attest_platform_free(e.platform);
    return rc;
}
