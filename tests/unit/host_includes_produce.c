/* Compiled by the attest_produce_host_guard tests (src/attest/CMakeLists.txt):
 * with PA_TRUST_HOST defined, as CMake does for the untrusted host's
 * targets, including the enclave-only producing header must not build. */
#include "attest_produce.h"

int main(void)
{
    return PA_PCR_LEN == 48 ? 0 : 1;
}
