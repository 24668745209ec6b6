#include "enclave_answer.h"

#include <stdlib.h>
#include <string.h>

#include "ipc_contract.h"
#include "json_strict.h"

/* Every reader below runs on an answer pa_enclave_call has checked against
 * the contract; the NULL checks only keep a misuse from crashing. */

int pa_answer_attest(const json_t *a, pa_attest_answer *out)
{
    out->quote = pa_json_str(a, "quote");
    out->enclave_pubkey = pa_json_str(a, "enclave_pubkey");
    out->signing_pubkey = pa_json_str(a, "signing_pubkey");
    out->image_hash = pa_json_str(a, "image_hash");
    PA_ENSURE(out->quote != NULL && out->enclave_pubkey != NULL && out->signing_pubkey != NULL &&
              out->image_hash != NULL);
    return 0;
}

int pa_answer_open(const json_t *a, pa_open_answer *out)
{
    out->enclave_pubkey = pa_json_str(a, "enclave_pubkey");
    PA_ENSURE(out->enclave_pubkey != NULL);
    return 0;
}

int pa_answer_info(const json_t *a, pa_info_answer *out)
{
    out->environment = pa_json_str(a, "environment");
    out->dev_root_pem = pa_json_str(a, "dev_root_pem"); /* null: production */
    PA_ENSURE(out->environment != NULL);
    return 0;
}

void pa_aggregate_answer_free(pa_aggregate_answer *a)
{
    free(a->entries);
    free(a->leaf_hashes);
    free(a->attestation_json);
    memset(a, 0, sizeof *a);
}

int pa_answer_aggregate(const json_t *a, pa_aggregate_answer *out)
{
    json_t *payload = NULL;
    json_t *att_obj = NULL;
    memset(out, 0, sizeof *out);

    out->result_id = pa_json_str(a, "result_id");
    out->payload_jcs = pa_json_str(a, "payload_jcs");
    out->signature = pa_json_str(a, "signature");
    out->merkle_root = pa_json_str(a, "merkle_root");
    PA_ENSURE_GOTO(out->result_id != NULL && out->payload_jcs != NULL && out->signature != NULL &&
                       out->merkle_root != NULL,
                   fail);
    payload = pa_json_parse(out->payload_jcs, strlen(out->payload_jcs), PA_IPC_PAYLOAD_MAX);
    /* the numbers served around the payload must be the ones signed in it */
    const char *p_id = pa_json_str(payload, "result_id");
    const char *p_root = pa_json_str(payload, "merkle_root");
    PA_ENSURE_GOTO(p_id != NULL && strcmp(p_id, out->result_id) == 0, fail);
    PA_ENSURE_GOTO(p_root != NULL && strcmp(p_root, out->merkle_root) == 0, fail);

    const json_t *entries = json_object_get(a, "entries");
    const json_t *leaves = json_object_get(a, "leaf_hashes");
    size_t n = json_array_size(entries);
    PA_ENSURE_GOTO(json_is_array(entries) && n == json_array_size(leaves), fail);
    out->n = n;
    out->entries = calloc(n + 1, sizeof *out->entries);
    out->leaf_hashes = calloc(n + 1, sizeof *out->leaf_hashes);
    PA_ENSURE_GOTO(out->entries != NULL && out->leaf_hashes != NULL, fail);
    for (size_t i = 0; i < n; i++) {
        out->entries[i] = json_string_value(json_array_get(entries, i));
        out->leaf_hashes[i] = json_string_value(json_array_get(leaves, i));
        PA_ENSURE_GOTO(out->entries[i] != NULL && out->leaf_hashes[i] != NULL, fail);
    }

    PA_GUARD_GOTO(pa_answer_attest(json_object_get(a, "attestation"), &out->attestation), fail);
    const char *p_image = pa_json_str(payload, "image_hash");
    PA_ENSURE_GOTO(p_image != NULL && strcmp(p_image, out->attestation.image_hash) == 0, fail);
    att_obj = json_pack("{s:s, s:s, s:s, s:s}", "quote", out->attestation.quote, "enclave_pubkey",
                        out->attestation.enclave_pubkey, "signing_pubkey",
                        out->attestation.signing_pubkey, "image_hash", out->attestation.image_hash);
    PA_ENSURE_GOTO(att_obj != NULL, fail);
    out->attestation_json = json_dumps(att_obj, JSON_COMPACT);
    PA_ENSURE_GOTO(out->attestation_json != NULL, fail);
    json_decref(att_obj);
    json_decref(payload);
    return 0;

fail:
    json_decref(att_obj);
    json_decref(payload);
    pa_aggregate_answer_free(out);
    return -1;
}
