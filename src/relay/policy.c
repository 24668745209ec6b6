/* The egress relay's request parser, allow-list and address ranges
 * (policy.h). */
#include "policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ---- host and port ------------------------------------------------------ */

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A DNS name: labels of 1-63 letters, digits and inner hyphens, separated by
 * single dots, no trailing dot (the allow-list compares text exactly). */
static int valid_dns_name(const char *s, size_t n)
{
    if (n == 0 || n > PA_RELAY_HOST_MAX)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && s[n - 1] != '-';
}

/* "host:port" of length n into host/port/kind. */
static int parse_authority(const char *s, size_t n, char *host, uint16_t *port,
                           pa_relay_host_kind *kind)
{
    const char *colon;
    size_t hl;
    const char *h;
    if (n > 0 && s[0] == '[') {
        const char *end = memchr(s, ']', n);
        PA_ENSURE(end != NULL && (size_t)(end - s) + 1 < n && end[1] == ':');
        h = s + 1;
        hl = (size_t)(end - s) - 1;
        colon = end + 1;
        PA_ENSURE(hl > 0 && hl < INET6_ADDRSTRLEN);
    } else {
        colon = NULL;
        for (size_t i = n; i > 0; i--) {
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        }
        PA_ENSURE(colon != NULL);
        h = s;
        hl = (size_t)(colon - s);
        PA_ENSURE(hl > 0 && hl <= PA_RELAY_HOST_MAX);
    }
    const char *p = colon + 1;
    size_t pl = (size_t)(s + n - p);
    PA_ENSURE(pl >= 1 && pl <= 5 && p[0] != '0');
    unsigned long v = 0;
    for (size_t i = 0; i < pl; i++) {
        PA_ENSURE(p[i] >= '0' && p[i] <= '9');
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    PA_ENSURE(v >= 1 && v <= 65535);
    memcpy(host, h, hl);
    host[hl] = '\0';
    for (size_t i = 0; i < hl; i++)
        if (host[i] >= 'A' && host[i] <= 'Z')
            host[i] = (char)(host[i] - 'A' + 'a');
    unsigned char addr[sizeof(struct in6_addr)];
    if (s[0] == '[') {
        PA_ENSURE(inet_pton(AF_INET6, host, addr) == 1);
        *kind = PA_RELAY_HOST_IPV6;
    } else if (inet_pton(AF_INET, host, addr) == 1) {
        *kind = PA_RELAY_HOST_IPV4;
    } else {
        PA_ENSURE(valid_dns_name(host, hl));
        *kind = PA_RELAY_HOST_NAME;
    }
    *port = (uint16_t)v;
    return 0;
}

/* ---- CONNECT head -------------------------------------------------------- */

static int is_tchar(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One header line (without CRLF): token ":" printable value. */
static int valid_header(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_tchar(s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return 0;
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f)
            return 0;
    }
    return 1;
}

static const char *find_crlfcrlf(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

pa_relay_req_status pa_relay_parse_connect(const char *buf, size_t len, pa_relay_target *t)
{
    if (buf == NULL || t == NULL)
        return PA_RELAY_REQ_BAD;
    memset(t, 0, sizeof *t);
    size_t scan = len < PA_RELAY_HEAD_MAX ? len : PA_RELAY_HEAD_MAX;
    const char *end = find_crlfcrlf(buf, scan);
    /* Refuse early what can never become a CONNECT, before a whole head. */
    static const char method[] = "CONNECT ";
    size_t m = scan < sizeof method - 1 ? scan : sizeof method - 1;
    if (memcmp(buf, method, m) != 0) {
        /* Another method (GET, POST ...) is 405; anything else is not HTTP. */
        for (size_t i = 0; i < m && buf[i] != ' '; i++)
            if (!(buf[i] >= 'A' && buf[i] <= 'Z'))
                return PA_RELAY_REQ_BAD;
        return PA_RELAY_REQ_METHOD;
    }
    if (end == NULL)
        return len >= PA_RELAY_HEAD_MAX ? PA_RELAY_REQ_TOO_LARGE : PA_RELAY_REQ_INCOMPLETE;
    size_t head = (size_t)(end - buf);
    /* Request line. */
    const char *eol = NULL;
    for (size_t i = 0; i <= head; i++) { /* buf[head] starts the final CRLFCRLF */
        if (buf[i] == '\r' && buf[i + 1] == '\n') {
            eol = buf + i;
            break;
        }
        if (buf[i] == '\n' || buf[i] == '\r')
            return PA_RELAY_REQ_BAD;
    }
    if (eol == NULL)
        return PA_RELAY_REQ_BAD;
    size_t line_len = (size_t)(eol - buf);
    const char *auth = buf + sizeof method - 1;
    const char *sp = memchr(auth, ' ', line_len - (sizeof method - 1));
    if (sp == NULL)
        return PA_RELAY_REQ_BAD;
    const char *ver = sp + 1;
    size_t vl = (size_t)(eol - ver);
    if (!(vl == 8 && (memcmp(ver, "HTTP/1.1", 8) == 0 || memcmp(ver, "HTTP/1.0", 8) == 0)))
        return PA_RELAY_REQ_BAD;
    if (parse_authority(auth, (size_t)(sp - auth), t->host, &t->port, &t->kind) != 0)
        return PA_RELAY_REQ_BAD;
    /* Header lines. */
    const char *p = eol + 2;
    unsigned headers = 0;
    while (p < end + 2) {
        const char *le = NULL;
        for (const char *q = p; q + 1 < end + 4; q++) {
            if (q[0] == '\r' && q[1] == '\n') {
                le = q;
                break;
            }
            if (*q == '\r' || *q == '\n')
                return PA_RELAY_REQ_BAD;
        }
        if (le == NULL)
            return PA_RELAY_REQ_BAD;
        if (le == p) /* the empty line: end of head */
            break;
        if (++headers > PA_RELAY_HEADERS_MAX || !valid_header(p, (size_t)(le - p)))
            return PA_RELAY_REQ_BAD;
        p = le + 2;
    }
    t->head_len = head + 4;
    return PA_RELAY_REQ_OK;
}

/* ---- allow-list ---------------------------------------------------------- */

int pa_relay_allow_add(pa_relay_allowlist *list, const char *entry)
{
    PA_ENSURE(list != NULL && entry != NULL);
    pa_relay_allow a;
    memset(&a, 0, sizeof a);
    PA_GUARD(parse_authority(entry, strlen(entry), a.host, &a.port, &a.kind));
    a.local = a.kind != PA_RELAY_HOST_NAME || strcmp(a.host, "localhost") == 0;
    PA_ENSURE(!a.local || list->dev_allow_local);
    if (list->len == list->cap) {
        size_t ncap = list->cap ? list->cap * 2 : 8;
        pa_relay_allow *v = realloc(list->v, ncap * sizeof *v);
        PA_ENSURE(v != NULL);
        list->v = v;
        list->cap = ncap;
    }
    list->v[list->len++] = a;
    return 0;
}

const pa_relay_allow *pa_relay_allow_find(const pa_relay_allowlist *list,
                                          const pa_relay_target *t)
{
    if (list == NULL || t == NULL)
        return NULL;
    for (size_t i = 0; i < list->len; i++) {
        const pa_relay_allow *a = &list->v[i];
        if (a->port == t->port && a->kind == t->kind && strcmp(a->host, t->host) == 0)
            return a;
    }
    return NULL;
}

void pa_relay_allow_free(pa_relay_allowlist *list)
{
    if (list == NULL)
        return;
    free(list->v);
    list->v = NULL;
    list->len = list->cap = 0;
}

/* ---- address ranges ------------------------------------------------------ */

typedef struct {
    uint32_t net;
    unsigned bits;
} v4_range;

/* RFC 6890 and the IANA IPv4 special-purpose registry: everything not
 * globally reachable unicast. */
static const v4_range v4_special[] = {
    {0x00000000, 8},  /* 0.0.0.0/8 "this network" */
    {0x0a000000, 8},  /* 10.0.0.0/8 private */
    {0x64400000, 10}, /* 100.64.0.0/10 shared address space (CGN) */
    {0x7f000000, 8},  /* 127.0.0.0/8 loopback */
    {0xa9fe0000, 16}, /* 169.254.0.0/16 link-local (cloud metadata lives here) */
    {0xac100000, 12}, /* 172.16.0.0/12 private */
    {0xc0000000, 24}, /* 192.0.0.0/24 IETF protocol assignments */
    {0xc0000200, 24}, /* 192.0.2.0/24 TEST-NET-1 */
    {0xc0586300, 24}, /* 192.88.99.0/24 6to4 relay anycast */
    {0xc0a80000, 16}, /* 192.168.0.0/16 private */
    {0xc6120000, 15}, /* 198.18.0.0/15 benchmarking */
    {0xc6336400, 24}, /* 198.51.100.0/24 TEST-NET-2 */
    {0xcb007100, 24}, /* 203.0.113.0/24 TEST-NET-3 */
    {0xe0000000, 4},  /* 224.0.0.0/4 multicast */
    {0xf0000000, 4},  /* 240.0.0.0/4 reserved, and 255.255.255.255 */
};

static int v4_public(uint32_t a)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(v4_special); i++) {
        uint32_t mask = v4_special[i].bits == 0 ? 0 : 0xffffffffu << (32 - v4_special[i].bits);
        if ((a & mask) == v4_special[i].net)
            return 0;
    }
    return 1;
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int v6_public(const uint8_t *b)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach an IPv4 address: judge that. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public(v4_at(b + 12));
    /* Only global unicast 2000::/3 ... */
    if ((b[0] & 0xe0) != 0x20)
        return 0;
    /* ... less its special blocks. */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) /* 2001::/23 incl. Teredo 2001::/32 */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
        return 0;
    if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) /* 3fff::/20 documentation */
        return 0;
    return 1;
}

int pa_relay_addr_public(const struct sockaddr *sa)
{
    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_public(in6->sin6_addr.s6_addr);
    }
    return 0;
}
