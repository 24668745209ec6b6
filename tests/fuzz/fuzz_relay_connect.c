/* libFuzzer driver for the egress relay's CONNECT parser (src/relay/policy.c),
 * which reads bytes from any local client. Properties: an accepted head is
 * really in the input, starts with "CONNECT ", ends with CRLFCRLF at
 * head_len; the host is non-empty, lowercase and of the allowed characters;
 * the answer never depends on bytes past the head (appending data does not
 * change it); and the allow-list and address check run on whatever the
 * parser accepts.
 * Run with `make fuzz` (scripts/fuzz.sh relay_connect); `make test` replays the seeds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pa_relay_target t;
    pa_relay_req_status st = pa_relay_parse_connect((const char *)data, size, &t);
    if (st != PA_RELAY_REQ_OK)
        return 0;
    if (t.head_len < 4 || t.head_len > size || t.head_len > PA_RELAY_HEAD_MAX ||
        memcmp(data, "CONNECT ", 8) != 0 || memcmp(data + t.head_len - 4, "\r\n\r\n", 4) != 0)
        abort();
    size_t hl = strlen(t.host);
    if (hl == 0 || hl > PA_RELAY_HOST_MAX || t.port == 0)
        abort();
    for (size_t i = 0; i < hl; i++) {
        char c = t.host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':'))
            abort();
    }
    /* The head alone parses to the same target. */
    pa_relay_target again;
    if (pa_relay_parse_connect((const char *)data, t.head_len, &again) != PA_RELAY_REQ_OK ||
        strcmp(again.host, t.host) != 0 || again.port != t.port || again.kind != t.kind ||
        again.head_len != t.head_len)
        abort();
    /* The accepted authority is a valid allow-list entry of itself. */
    pa_relay_allowlist l = {.dev_allow_local = 1};
    char entry[PA_RELAY_HOST_MAX + 16];
    int n = t.kind == PA_RELAY_HOST_IPV6 ? snprintf(entry, sizeof entry, "[%s]:%u", t.host, t.port)
                                         : snprintf(entry, sizeof entry, "%s:%u", t.host, t.port);
    if (n <= 0 || pa_relay_allow_add(&l, entry) != 0 || pa_relay_allow_find(&l, &t) == NULL)
        abort();
    pa_relay_allow_free(&l);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = {.s_addr = htonl(0x7f000001)}};
    if (pa_relay_addr_public((const struct sockaddr *)&a))
        abort();
    return 0;
}
