/* The egress relay's decisions, as pure functions (no I/O) so they can be
 * tested and fuzzed exactly as the relay runs them:
 *   - parsing a client's CONNECT request head,
 *   - the host:port allow-list,
 *   - which resolved addresses may be connected to. */
#ifndef PA_RELAY_POLICY_H
#define PA_RELAY_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "result.h"

#define PA_RELAY_HEAD_MAX 8192 /* a CONNECT head, request line and headers */
#define PA_RELAY_HEADERS_MAX 64
#define PA_RELAY_HOST_MAX 253  /* a DNS name's longest text form */

typedef enum {
    PA_RELAY_HOST_NAME = 0, /* resolved through DNS: every address must be public */
    PA_RELAY_HOST_IPV4,
    PA_RELAY_HOST_IPV6,
} pa_relay_host_kind;

typedef struct {
    char host[PA_RELAY_HOST_MAX + 1]; /* lowercase; an IPv6 literal without brackets */
    uint16_t port;
    pa_relay_host_kind kind;
    size_t head_len; /* bytes of the head, CRLFCRLF included; tunnel data follows */
} pa_relay_target;

typedef enum {
    PA_RELAY_REQ_OK = 0,
    PA_RELAY_REQ_INCOMPLETE, /* no end of head yet: read more (below PA_RELAY_HEAD_MAX) */
    PA_RELAY_REQ_BAD,        /* 400 */
    PA_RELAY_REQ_METHOD,     /* 405: a request other than CONNECT */
    PA_RELAY_REQ_TOO_LARGE,  /* 431: no end of head within PA_RELAY_HEAD_MAX */
} pa_relay_req_status;

/* Parses "CONNECT host:port HTTP/1.x\r\n" + header lines + "\r\n" from the
 * start of buf. Strict: single spaces, CRLF line ends, printable ASCII only,
 * host a DNS name (letters, digits, '-', '.'), a dotted IPv4 or a bracketed
 * IPv6 literal, port 1-65535 without leading zeros. Headers are checked for
 * form and otherwise ignored (the relay never forwards them). */
pa_relay_req_status pa_relay_parse_connect(const char *buf, size_t len, pa_relay_target *t);

typedef struct {
    char host[PA_RELAY_HOST_MAX + 1];
    uint16_t port;
    pa_relay_host_kind kind;
    int local; /* "localhost" or an IP literal: only with dev_allow_local */
} pa_relay_allow;

typedef struct {
    pa_relay_allow *v;
    size_t len, cap;
    int dev_allow_local; /* development: local/literal entries connect unchecked */
} pa_relay_allowlist;

/* Adds "host:port" (the same host syntax as CONNECT's). An IP literal or
 * "localhost" is refused unless list->dev_allow_local is set. */
PA_MUST_USE int pa_relay_allow_add(pa_relay_allowlist *list, const char *entry);
/* The entry allowing t, or NULL. */
const pa_relay_allow *pa_relay_allow_find(const pa_relay_allowlist *list,
                                          const pa_relay_target *t);
void pa_relay_allow_free(pa_relay_allowlist *list);

/* 1 when the address is globally routable unicast; 0 for private, loopback,
 * link-local, shared (CGN), multicast, documentation, benchmarking, reserved,
 * unspecified and the IPv6 transition ranges whose embedded IPv4 address is
 * not public (IPv4-mapped and NAT64 are judged by the address they embed). */
int pa_relay_addr_public(const struct sockaddr *sa);

#endif
