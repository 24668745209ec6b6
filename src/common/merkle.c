/* RFC 6962 §2.1 Merkle Tree Hash and the per-run audit log.
 *
 * The tree is computed recursively exactly as the RFC defines it (split at the
 * largest power of two smaller than n), so the code reads against the RFC line
 * by line; the depth is log2(n) and nothing but one digest context is
 * allocated, whatever n is. */
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jcs.h"

static const uint8_t LEAF_PREFIX = 0x00;
static const uint8_t NODE_PREFIX = 0x01;

/* SHA-256(prefix || a || b) with a reused context; prefix may be NULL. */
static int sha256_parts(EVP_MD_CTX *ctx, const uint8_t *prefix, const uint8_t *a, size_t alen,
                        const uint8_t *b, size_t blen, uint8_t out[PA_HASH_LEN])
{
    unsigned int len = 0;
    PA_ENSURE(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1);
    if (prefix != NULL)
        PA_ENSURE(EVP_DigestUpdate(ctx, prefix, 1) == 1);
    if (alen > 0)
        PA_ENSURE(EVP_DigestUpdate(ctx, a, alen) == 1);
    if (blen > 0)
        PA_ENSURE(EVP_DigestUpdate(ctx, b, blen) == 1);
    PA_ENSURE(EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == PA_HASH_LEN);
    return 0;
}

void pa_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[PA_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx != NULL ? sha256_parts(ctx, &LEAF_PREFIX, data, len, NULL, 0, out) : -1;
    EVP_MD_CTX_free(ctx);
    /* The declaration has no way to report failure, and OpenSSL only fails
     * here when memory runs out. A wrong leaf hash would end up in a signed
     * result, so stopping is the only safe answer. */
    if (rc != 0)
        abort();
}

/* Where the leaves come from: raw byte strings, or the audit log's texts
 * (never read when the tree is empty). */
typedef struct {
    const pa_bytes *bytes;
    char *const *texts;
} leaf_source;

static pa_bytes leaf_at(const leaf_source *src, size_t i)
{
    if (src->bytes != NULL)
        return src->bytes[i];
    pa_bytes b = {(const uint8_t *)src->texts[i], strlen(src->texts[i])};
    return b;
}

/* MTH(D[first : first+n]) for n >= 1. */
static int mth(EVP_MD_CTX *ctx, const leaf_source *src, size_t first, size_t n,
               uint8_t out[PA_HASH_LEN])
{
    if (n == 1) {
        pa_bytes leaf = leaf_at(src, first);
        PA_ENSURE(leaf.data != NULL || leaf.len == 0);
        return sha256_parts(ctx, &LEAF_PREFIX, leaf.data, leaf.len, NULL, 0, out);
    }
    size_t k = 1; /* the largest power of two smaller than n */
    while (k < n - k)
        k <<= 1;
    uint8_t left[PA_HASH_LEN], right[PA_HASH_LEN];
    PA_GUARD(mth(ctx, src, first, k, left));
    PA_GUARD(mth(ctx, src, first + k, n - k, right));
    return sha256_parts(ctx, &NODE_PREFIX, left, sizeof left, right, sizeof right, out);
}

static int root_of(const leaf_source *src, size_t n, uint8_t out[PA_HASH_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return -1;
    /* The hash of an empty list is the hash of an empty string (§2.1). */
    int rc = n == 0 ? sha256_parts(ctx, NULL, NULL, 0, NULL, 0, out) : mth(ctx, src, 0, n, out);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int pa_merkle_root(const pa_bytes *leaves, size_t n, uint8_t out[PA_HASH_LEN])
{
    if (out == NULL || (n > 0 && leaves == NULL))
        return -1;
    leaf_source src = {.bytes = leaves};
    return root_of(&src, n, out);
}

void pa_audit_init(pa_audit_log *log)
{
    log->entries = NULL;
    log->len = 0;
    log->cap = 0;
}

int pa_audit_append(pa_audit_log *log, const json_t *entry)
{
    if (log == NULL || entry == NULL || log->len >= PA_AUDIT_MAX_ENTRIES)
        return -1;
    if (log->len == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 16;
        if (cap > PA_AUDIT_MAX_ENTRIES)
            cap = PA_AUDIT_MAX_ENTRIES;
        char **grown = realloc(log->entries, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        log->entries = grown;
        log->cap = cap;
    }
    char *text = pa_jcs_dumps(entry);
    if (text == NULL)
        return -1;
    log->entries[log->len++] = text;
    return 0;
}

int pa_audit_root(const pa_audit_log *log, uint8_t out[PA_HASH_LEN])
{
    if (log == NULL || out == NULL || (log->len > 0 && log->entries == NULL))
        return -1;
    leaf_source src = {.texts = log->entries};
    return root_of(&src, log->len, out);
}

void pa_audit_free(pa_audit_log *log)
{
    if (log == NULL)
        return;
    for (size_t i = 0; i < log->len; i++)
        free(log->entries[i]);
    free(log->entries);
    pa_audit_init(log);
}
