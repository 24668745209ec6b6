/* libFuzzer driver for the attestation verifier: every byte string must be
 * rejected or accepted without a crash, a leak or undefined behaviour.
 * The verifier parses the whole envelope and payload (and the leaf
 * certificate) before it checks the signature, so random inputs reach all of
 * the parsing code.
 *
 * Build (not part of the default build):
 *   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DPERFAGG_FUZZ=ON
 *   ninja -C build-fuzz fuzz_attest
 * Seed corpus: the decoded real documents, e.g.
 *   mkdir corpus && base64 -d ../shared/testdata/nitro/nitro_attestation.b64 > corpus/prod
 *   build-fuzz/fuzz_attest corpus -max_len=16500 */
#include <stddef.h>
#include <stdint.h>

#include "attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static X509 *root;
    static pa_attest_claims claims;
    char err[128];
    if (root == NULL)
        root = pa_attest_aws_root();
    if (root == NULL)
        __builtin_trap();
    /* both policies, and the document's own time as well as a fixed one */
    (void)pa_attest_verify(data, size, root, 0, 1, &claims, err, sizeof err);
    (void)pa_attest_verify(data, size, root, 1725719859545, 0, &claims, err, sizeof err);
    return 0;
}
