/* libFuzzer driver for the enclave's request handler (pa_enclave_handle,
 * src/enclave/enclave_ops.h): the whole IPC surface the untrusted host can
 * reach, from frame parsing through envelope opening and credential
 * parsing. The enclave is set up once, as main.c does: the wiping
 * allocators, a development attestation platform (in a temporary directory
 * removed right after set-up; the platform keeps its keys in memory), a
 * fresh Ed25519 signing key, and an exchange at an address nothing listens
 * on (http://127.0.0.1:9, 200 ms), so an aggregate request that does open
 * fails fast with exchange_unavailable.
 *
 * The X25519 envelope key is FIXED (FUZZ_ENVELOPE_SECRET below, a public
 * test value, never used outside this driver) rather than fresh: the seed
 * corpus then holds envelopes sealed to it, so open and aggregate requests
 * get past decryption into pa_credentials_parse and the exchange call
 * instead of stopping at the key check.
 *
 * Beyond "no crash", for every input:
 *  - the answer fits the contract (src/ipc/ipc_contract.h), checked with the
 *    host's own validator: for a request of a known op, exactly that op's
 *    answer shape or a refusal; otherwise a refusal. A refusal carries one of
 *    the contract's codes, and never internal_error (no request can make the
 *    enclave fail inside);
 *  - the contract is the gate: a request its parser refuses (an unknown field,
 *    a wrong type, a value over its cap) is answered invalid_request, and
 *    nothing succeeds that the parser refuses;
 *  - nothing succeeds that must not: only info, attest and open can answer
 *    ok here (an aggregate needs the exchange), and open answers with this
 *    enclave's key; aggregate_start answers a job id (the job fails on its
 *    thread, and an unknown job id is job_not_found);
 *  - no answer contains the seeds' API key or secret (FUZZ_MARK) unless the
 *    request itself does in clear text (an attest nonce is echoed inside the
 *    quote's base64): decrypted credentials never leave the enclave. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "codec.h"
#include "enclave_ops.h"
#include "envelope_keys.h"
#include "ipc.h"
#include "ipc_host.h"
#include "json_strict.h"
#include "log.h"
#include "secure_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* X25519 secret 0x01 0x02 ... 0x20; its public key (base64) is
 * B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw= and the seed envelopes in
 * tests/fuzz/corpus/enclave/ are sealed to it. */
static const uint8_t FUZZ_ENVELOPE_SECRET[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
/* Every seed's apiKey and apiSecret contain this. */
#define FUZZ_MARK "FUZZMARK"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(pa_enclave *e)
{
    if (pa_secure_alloc_install() != 0)
        abort();
    pa_log_set_component("fuzz-enclave");
    e->envelope_key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, FUZZ_ENVELOPE_SECRET, 32);
    e->signing_key = pa_ed25519_generate();
    if (e->envelope_key == NULL || e->signing_key == NULL ||
        pa_raw_public_key(e->envelope_key, e->enclave_pub) != 0 ||
        pa_raw_public_key(e->signing_key, e->signing_pub) != 0)
        abort();
    e->enclave_pub_b64 = pa_b64_encode(e->enclave_pub, 32);
    e->signing_pub_b64 = pa_b64_encode(e->signing_pub, 32);
    if (e->enclave_pub_b64 == NULL || e->signing_pub_b64 == NULL)
        abort();

    char dir[] = "/tmp/pa-fuzz-enclave.XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    char ca_dir[sizeof dir + 16];
    snprintf(ca_dir, sizeof ca_dir, "%s/dev-attest", dir);
    e->platform = pa_attest_dev_open(ca_dir, "/proc/self/exe");
    if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0 || e->platform == NULL)
        abort();
    e->dev_platform = 1;
    pa_hex_encode(pa_attest_pcr0(e->platform), PA_PCR_LEN, e->image_hash);
    e->binance_base_url = "http://127.0.0.1:9";
    e->development_build = 1;
    e->exchange_timeout_ms = 200;
}

/* data/size is the request, resp the enclave's answer to it. */
static void check_answer(const pa_enclave *e, const uint8_t *data, size_t size, const char *resp)
{
    int req_has_mark = memmem(data, size, FUZZ_MARK, strlen(FUZZ_MARK)) != NULL;
    if (resp == NULL || (!req_has_mark && strstr(resp, FUZZ_MARK) != NULL))
        abort();
    /* what the contract's own parser makes of the request */
    pa_ipc_op op = PA_IPC_OP_COUNT;
    json_t *req = NULL;
    char why[PA_IPC_WHY_MAX];
    int valid = pa_ipc_request_parse((const char *)data, size, &op, &req, why) == 0;
    json_decref(req);
    if (!valid) {
        /* the op may still be named, for the answer's shape below */
        json_t *j = pa_json_parse((const char *)data, size, PA_IPC_MAX_FRAME);
        if (pa_ipc_op_from_name(pa_json_str(j, "op"), &op) != 0)
            op = PA_IPC_OP_INFO; /* any op: only a refusal is acceptable */
        json_decref(j);
    }

    json_t *r = pa_json_parse(resp, strlen(resp), PA_IPC_MAX_FRAME);
    pa_ipc_error code;
    switch (pa_ipc_answer_check(op, r, &code, why)) {
    case PA_IPC_ANSWER_REFUSED:
        if (code == PA_IPC_E_INTERNAL_ERROR || (!valid && code != PA_IPC_E_INVALID_REQUEST))
            abort();
        break;
    case PA_IPC_ANSWER_OK: {
        /* a started job answers only its id (its run ends in exchange_unavailable) */
        if (valid && op == PA_IPC_OP_AGGREGATE_START)
            break;
        if (!valid || (op != PA_IPC_OP_INFO && op != PA_IPC_OP_ATTEST && op != PA_IPC_OP_OPEN &&
                       op != PA_IPC_OP_KEYGEN && op != PA_IPC_OP_STATS))
            abort();
        /* stats carries counts only (the contract's shape, checked above) */
        if (op == PA_IPC_OP_STATS)
            break;
        /* every other successful answer names this enclave's key (keygen: in its quote) */
        const char *pk = pa_json_str(op == PA_IPC_OP_KEYGEN ? json_object_get(r, "attestation") : r,
                                     "enclave_pubkey");
        if (pk == NULL || strcmp(pk, e->enclave_pub_b64) != 0)
            abort();
        break;
    }
    case PA_IPC_ANSWER_MALFORMED:
    default:
        abort();
    }
    json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pa_enclave enclave;
    static int ready;
    if (!ready) {
        setup(&enclave);
        ready = 1;
    }
    char *resp = pa_enclave_handle(&enclave, (const char *)data, size);
    check_answer(&enclave, data, size, resp);
    free(resp);
    return 0;
}
