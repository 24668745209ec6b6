/* TRUSTED_PROXIES: the reverse proxies whose word on the client's address
 * is taken. Behind a proxy every TCP peer is the proxy, so the rate limiter
 * would put every client into one budget; a connection from a listed proxy
 * is counted by the address the proxy put into X-Forwarded-For instead. A
 * connection from anywhere else is counted by its own address, whatever
 * X-Forwarded-For it sends (a client could write any address there). */
#ifndef PA_PROXY_H
#define PA_PROXY_H

#include <sys/socket.h>

#include "result.h"

#define PA_PROXY_MAX 16

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
} pa_proxy_addr;

typedef struct {
    size_t n;
    pa_proxy_addr a[PA_PROXY_MAX];
} pa_proxies;

/* Comma-separated numeric IPv4/IPv6 addresses (spaces around commas
 * allowed); NULL or "" is the empty list. -1 on anything else. */
PA_MUST_USE int pa_proxies_parse(const char *list, pa_proxies *out);

/* 1 when sa (an IPv4-mapped IPv6 peer counts as IPv4) is in the list. */
int pa_proxies_contains(const pa_proxies *p, const struct sockaddr *sa);

/* The client address a trusted proxy reports: the last entry of an
 * X-Forwarded-For value (the one the nearest proxy added), a numeric
 * address only. -1 when missing or malformed. */
PA_MUST_USE int pa_proxy_client_addr(const char *xff, struct sockaddr_storage *out);

#endif
