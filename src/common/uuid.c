#include "uuid.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "codec.h"

int pa_uuid_v4(char out[PA_UUID_STR_LEN])
{
    uint8_t r[16];
    PA_ENSURE(RAND_bytes(r, sizeof r) == 1);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    char hex[33];
    pa_hex_encode(r, sizeof r, hex);
    snprintf(out, PA_UUID_STR_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
    return 0;
}

int pa_uuid_valid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    char variant = (char)tolower((unsigned char)s[19]);
    return s[14] == '4' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}
