/* Which root a verification trusts. The client only ever trusts the AWS root
 * compiled into it or a file the user named; nothing a server sends. */
#include <string.h>

#include <openssl/evp.h>

#include "codec.h"
#include "perfagg_client.h"

X509 *pa_client_load_root(const char *dev_root_path)
{
    if (dev_root_path == NULL)
        return pa_attest_aws_root();
    return pa_attest_load_root(dev_root_path, NULL);
}

int pa_client_root_is_aws(X509 *root)
{
    if (root == NULL)
        return 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(root, EVP_sha256(), md, &n) != 1 || n != 32)
        return 0;
    char hex[65];
    pa_hex_encode(md, n, hex);
    return strcmp(hex, PA_AWS_NITRO_ROOT_SHA256) == 0;
}
