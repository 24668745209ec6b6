/* libFuzzer driver for the credential envelope format (pa_envelope_parse, the
 * server's first look at a submit body). The input is JSON text, read as the
 * server reads a body (pa_json_parse). Beyond "no crash":
 *  - a refusal names its reason and leaves the envelope empty;
 *  - an accepted envelope round-trips: pa_envelope_to_json gives back a
 *    value equal to the body (same five keys, canonical base64, metadata
 *    unchanged), which parses again to the same fields;
 *  - its metadata passes pa_envelope_check_metadata on its own and has a
 *    canonical (JCS) form, which the server stores as the AAD. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "envelope_format.h"
#include "jcs.h"
#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CAP ((size_t)64 * 1024)

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int is_empty(const pa_envelope *env)
{
    return env->ciphertext == NULL && env->ciphertext_len == 0 && env->metadata == NULL &&
           all_zero(env->ephemeral_pub, sizeof env->ephemeral_pub) &&
           all_zero(env->nonce, sizeof env->nonce) && all_zero(env->tag, sizeof env->tag);
}

static int same_fields(const pa_envelope *a, const pa_envelope *b)
{
    return memcmp(a->ephemeral_pub, b->ephemeral_pub, sizeof a->ephemeral_pub) == 0 &&
           memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 &&
           memcmp(a->tag, b->tag, sizeof a->tag) == 0 && a->ciphertext_len == b->ciphertext_len &&
           memcmp(a->ciphertext, b->ciphertext, a->ciphertext_len) == 0 &&
           json_equal(a->metadata, b->metadata);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = pa_json_parse((const char *)data, size, FUZZ_CAP);
    if (body == NULL)
        return 0;
    pa_envelope env, again;
    const char *err = NULL;
    if (pa_envelope_parse(body, &env, &err) != 0) {
        if (err == NULL || err[0] == '\0' || !is_empty(&env))
            abort();
        json_decref(body);
        return 0;
    }
    if (env.ciphertext == NULL || env.ciphertext_len < 1 ||
        env.ciphertext_len > PA_CIPHERTEXT_MAX || !json_is_object(env.metadata))
        abort();
    if (pa_envelope_check_metadata(env.metadata, NULL) != 0)
        abort();
    char *aad = pa_jcs_dumps(env.metadata);
    if (aad == NULL)
        abort();
    free(aad);

    json_t *back = pa_envelope_to_json(&env);
    if (back == NULL || !json_equal(back, body))
        abort();
    if (pa_envelope_parse(back, &again, &err) != 0 || !same_fields(&env, &again))
        abort();
    pa_envelope_free(&again);
    json_decref(back);
    pa_envelope_free(&env);
    if (!is_empty(&env))
        abort();
    pa_envelope_free(&env); /* twice is safe */
    json_decref(body);
    return 0;
}
