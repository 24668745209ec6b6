#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* One numeric address in s[0..len) (no surrounding spaces). */
static int parse_one(const char *s, size_t len, pa_proxy_addr *out)
{
    char tmp[INET6_ADDRSTRLEN];
    PA_ENSURE(len > 0 && len < sizeof tmp);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, tmp, out->addr) == 1) {
        out->family = AF_INET;
        return 0;
    }
    PA_ENSURE(inet_pton(AF_INET6, tmp, out->addr) == 1);
    out->family = AF_INET6;
    /* an IPv4-mapped entry means that IPv4 address */
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)out->addr)) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
    }
    return 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

int pa_proxies_parse(const char *list, pa_proxies *out)
{
    memset(out, 0, sizeof *out);
    if (list == NULL || *list == '\0')
        return 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &len);
        PA_ENSURE(out->n < PA_PROXY_MAX);
        PA_GUARD(parse_one(item, len, &out->a[out->n]));
        out->n++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* sa as a pa_proxy_addr (IPv4-mapped IPv6 as IPv4). */
static int from_sockaddr(const struct sockaddr *sa, pa_proxy_addr *out)
{
    memset(out, 0, sizeof *out);
    PA_ENSURE(sa != NULL);
    if (sa->sa_family == AF_INET) {
        out->family = AF_INET;
        memcpy(out->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    PA_ENSURE(sa->sa_family == AF_INET6);
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
        out->family = AF_INET;
        memcpy(out->addr, &a6->s6_addr[12], 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->addr, a6->s6_addr, 16);
    }
    return 0;
}

int pa_proxies_contains(const pa_proxies *p, const struct sockaddr *sa)
{
    pa_proxy_addr peer;
    if (p == NULL || p->n == 0 || from_sockaddr(sa, &peer) != 0)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->a[i].family == peer.family &&
            memcmp(p->a[i].addr, peer.addr, peer.family == AF_INET ? 4 : 16) == 0)
            return 1;
    return 0;
}

int pa_proxy_client_addr(const char *xff, struct sockaddr_storage *out)
{
    PA_ENSURE(xff != NULL);
    const char *last = strrchr(xff, ',');
    const char *item = last != NULL ? last + 1 : xff;
    size_t len = strlen(item);
    trim(&item, &len);
    pa_proxy_addr a;
    PA_GUARD(parse_one(item, len, &a));
    memset(out, 0, sizeof *out);
    if (a.family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a.addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, a.addr, 16);
    }
    return 0;
}
