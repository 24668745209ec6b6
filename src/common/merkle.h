/* RFC 6962 §2.1 Merkle Tree Hash, and the per-run audit log it commits to.
 *   leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right),
 *   split at the largest power of two smaller than n; empty tree = SHA-256(""). */
#ifndef PA_MERKLE_H
#define PA_MERKLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "result.h"

#define PA_HASH_LEN 32
#define PA_AUDIT_MAX_ENTRIES 100000

void pa_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[PA_HASH_LEN]);
PA_MUST_USE int pa_merkle_root(const pa_bytes *leaves, size_t n, uint8_t out[PA_HASH_LEN]);

/* The audit entries of one aggregation run, each kept as its JCS text. */
typedef struct {
    char **entries;
    size_t len;
    size_t cap;
} pa_audit_log;

void pa_audit_init(pa_audit_log *log);
/* Appends JCS(entry). Fails past PA_AUDIT_MAX_ENTRIES. */
PA_MUST_USE int pa_audit_append(pa_audit_log *log, const json_t *entry);
PA_MUST_USE int pa_audit_root(const pa_audit_log *log, uint8_t out[PA_HASH_LEN]);
void pa_audit_free(pa_audit_log *log);

#endif
