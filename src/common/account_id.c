/* account_id (account_id.h). */
#include "account_id.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "codec.h"

int pa_account_id(const uint8_t salt[PA_ACCOUNT_ID_SALT_LEN], const char *venue, const char *uid,
                  char out_hex[PA_ACCOUNT_ID_HEX_LEN + 1])
{
    if (salt == NULL || venue == NULL || uid == NULL || out_hex == NULL || venue[0] == '\0' ||
        uid[0] == '\0' || strchr(venue, ':') != NULL)
        return -1;
    pa_buf msg;
    pa_buf_init(&msg, 1024);
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int rc = -1;
    PA_GUARD_GOTO(pa_buf_printf(&msg, "%s:%s", venue, uid), cleanup);
    PA_ENSURE_GOTO(HMAC(EVP_sha256(), salt, PA_ACCOUNT_ID_SALT_LEN, msg.data, msg.len, mac,
                        &mac_len) != NULL &&
                       mac_len == 32,
                   cleanup);
    pa_hex_encode(mac, mac_len, out_hex);
    rc = 0;
cleanup:
    OPENSSL_cleanse(mac, sizeof mac);
    pa_buf_free(&msg);
    return rc;
}
