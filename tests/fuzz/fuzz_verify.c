/* libFuzzer driver for the client's offline bundle verifier
 * (pa_client_verify_bundle) and the summary a front end prints next to its
 * report (pa_client_bundle_summary): both read a result bundle, a file
 * anyone may hand to a verifier. The root is a development root
 * (tests/fuzz/data/verify_root.pem, a public certificate: the development
 * CA whose attestation signs the seed bundles in tests/fuzz/corpus/verify/),
 * so a seed passes every check and mutations start from a valid bundle.
 * Beyond "no crash":
 *  - the report is well-formed: 1..PA_REPORT_MAX_CHECKS checks, the first
 *    one bundle_format, and nothing more when that one failed; the return
 *    value is 0 exactly when the report passed;
 *  - verification is deterministic: a second run gives the same checks with
 *    the same statuses;
 *  - nothing verifies under a root that did not sign it: the same input
 *    never passes under the AWS Nitro root;
 *  - asking for a challenge adds a challenge check once the format passed,
 *    and only ever refuses more;
 *  - a bundle that passed has a summary with its result id. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "perfagg_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX ((size_t)256 * 1024)

static void check_report(const pa_verify_report *r, int rc)
{
    if (r->n < 1 || r->n > PA_REPORT_MAX_CHECKS || strcmp(r->checks[0].name, "bundle_format") != 0)
        abort();
    if (r->checks[0].status != PA_CHECK_OK && r->n != 1)
        abort();
    if ((rc == 0) != pa_verify_report_passed(r))
        abort();
}

static int same_checks(const pa_verify_report *a, const pa_verify_report *b)
{
    if (a->n != b->n || a->overflow != b->overflow || a->development != b->development)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->checks[i].name, b->checks[i].name) != 0 ||
            a->checks[i].status != b->checks[i].status)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static X509 *dev_root, *aws_root;
    static pa_verify_report first, second, aws, chal;
    static pa_client_summary summary;
    if (dev_root == NULL) {
        dev_root = pa_client_load_root(PA_SOURCE_DIR "/tests/fuzz/data/verify_root.pem");
        aws_root = pa_client_load_root(NULL);
        if (dev_root == NULL || aws_root == NULL)
            abort();
    }
    if (size > FUZZ_MAX)
        return 0;
    const char *text = (const char *)data;

    int rc = pa_client_verify_bundle(text, size, dev_root, NULL, &first);
    check_report(&first, rc);
    if (!first.development)
        abort();
    int rc2 = pa_client_verify_bundle(text, size, dev_root, NULL, &second);
    if (rc2 != rc || !same_checks(&first, &second))
        abort();

    int rc_aws = pa_client_verify_bundle(text, size, aws_root, NULL, &aws);
    check_report(&aws, rc_aws);
    if (rc_aws == 0 || aws.development)
        abort();

    pa_client_expect e;
    memset(&e, 0, sizeof e);
    e.challenge = "\x01 not the payload's";
    int rc_chal = pa_client_verify_bundle(text, size, dev_root, &e, &chal);
    check_report(&chal, rc_chal);
    if (chal.checks[0].status == PA_CHECK_OK && pa_verify_report_get(&chal, "challenge") == NULL)
        abort();
    if (rc_chal == 0 && rc != 0) /* an expectation only ever refuses more */
        abort();

    int rc_sum = pa_client_bundle_summary(text, size, &summary);
    if (rc == 0 && (rc_sum != 0 || summary.result_id[0] == '\0'))
        abort();
    return 0;
}
