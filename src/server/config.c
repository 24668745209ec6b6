#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc_addr.h"

int pa_config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    PA_ENSURE(s != NULL && *s != '\0' && strlen(s) <= 18);
    int64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        PA_ENSURE(*p >= '0' && *p <= '9');
        v = v * 10 + (*p - '0');
    }
    PA_ENSURE(v >= min && v <= max);
    *out = v;
    return 0;
}

static const char *lookup_nonempty(pa_config_lookup lookup, void *ud, const char *name)
{
    const char *v = lookup(name, ud);
    return v != NULL && *v != '\0' ? v : NULL;
}

/* Reads an integer variable with a default; -1 with a message when invalid. */
static int int_var(pa_config_lookup lookup, void *ud, const char *name, int64_t def, int64_t min,
                   int64_t max, int64_t *out, char *err, size_t errlen)
{
    const char *v = lookup_nonempty(lookup, ud, name);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (pa_config_parse_int(v, min, max, out) != 0) {
        snprintf(err, errlen, "%s must be a whole number from %lld to %lld (got \"%.32s\")", name,
                 (long long)min, (long long)max, v);
        return -1;
    }
    return 0;
}

int pa_config_load(pa_config *c, pa_config_lookup lookup, void *ud, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    int64_t v;

    PA_GUARD_GOTO(int_var(lookup, ud, "ENCLAVE_PORT", 3000, 1, 65535, &v, err, errlen), fail);
    c->port = (unsigned)v;

    const char *addr = lookup_nonempty(lookup, ud, "LISTEN_ADDRESS");
    if (addr == NULL)
        addr = "127.0.0.1";
    struct in_addr a4;
    struct in6_addr a6;
    if (strlen(addr) >= sizeof c->listen_address) {
        snprintf(err, errlen, "LISTEN_ADDRESS is too long");
        goto fail;
    }
    if (inet_pton(AF_INET, addr, &a4) == 1) {
        c->listen_ipv6 = 0;
    } else if (inet_pton(AF_INET6, addr, &a6) == 1) {
        c->listen_ipv6 = 1;
    } else {
        snprintf(err, errlen,
                 "LISTEN_ADDRESS must be a numeric IPv4 or IPv6 address (got \"%.64s\")", addr);
        goto fail;
    }
    snprintf(c->listen_address, sizeof c->listen_address, "%s", addr);

    const char *url = lookup_nonempty(lookup, ud, "DATABASE_URL");
    if (url == NULL) {
        snprintf(err, errlen, "DATABASE_URL is required (a libpq connection URL or string)");
        goto fail;
    }
    c->database_url = strdup(url);
    if (c->database_url == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    /* Upper bounds keep arithmetic far from overflow and catch unit mix-ups
     * (a window in seconds instead of ms still parses, so it is documented). */
    PA_GUARD_GOTO(int_var(lookup, ud, "MAX_TTL_SECONDS", 604800, 60, 31536000, &c->max_ttl_s, err,
                          errlen),
                  fail);
    PA_GUARD_GOTO(int_var(lookup, ud, "RATE_LIMIT_MAX", 100, 1, 1000000000, &v, err, errlen), fail);
    c->rate_limit_max = (long)v;
    PA_GUARD_GOTO(int_var(lookup, ud, "RATE_LIMIT_WINDOW", 900000, 1000, 86400000,
                          &c->rate_limit_window_ms, err, errlen),
                  fail);
    PA_GUARD_GOTO(pa_cors_parse(lookup(("ALLOWED_ORIGINS"), ud), &c->cors, err, errlen), fail);
    PA_GUARD_GOTO(int_var(lookup, ud, "CLEANUP_INTERVAL_SECONDS", 60, 1, 86400,
                          &c->cleanup_interval_s, err, errlen),
                  fail);

    /* ENCLAVE_ADDR (unix:/path or vsock://CID:PORT) or the older
     * PERFAGG_ENCLAVE_SOCKET path; enclave_socket keeps a bare path for
     * unix and the canonical address for vsock (pa_ipc_connect takes both). */
    const char *ea = lookup_nonempty(lookup, ud, "ENCLAVE_ADDR");
    const char *sock = lookup_nonempty(lookup, ud, "PERFAGG_ENCLAVE_SOCKET");
    pa_ipc_addr ipc;
    if (pa_ipc_addr_resolve(ea, sock, &ipc) != 0) {
        if (ea != NULL)
            snprintf(err, errlen, "ENCLAVE_ADDR must be unix:/path or vsock://CID:PORT (got \"%.64s\")",
                     ea);
        else
            snprintf(err, errlen, "PERFAGG_ENCLAVE_SOCKET must be a socket path of at most %d bytes",
                     PA_CONFIG_SOCKET_MAX - 1);
        goto fail;
    }
    if (ipc.kind == PA_IPC_UNIX)
        snprintf(c->enclave_socket, sizeof c->enclave_socket, "%s", ipc.path);
    else
        PA_GUARD_GOTO(pa_ipc_addr_format(&ipc, c->enclave_socket, sizeof c->enclave_socket), fail);

    PA_GUARD_GOTO(int_var(lookup, ud, "PERFAGG_DB_POOL", 8, 1, 64, &v, err, errlen), fail);
    c->db_pool = (int)v;
    PA_GUARD_GOTO(int_var(lookup, ud, "PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS", 50000, 0, 55000, &v,
                          err, errlen),
                  fail);
    c->aggregate_sync_timeout_ms = v;
    /* Each result is a stored row set (payload, attestation, audit log) that
     * one session id could otherwise grow without end. */
    PA_GUARD_GOTO(int_var(lookup, ud, "MAX_RESULTS_PER_SESSION", 100, 1, 100000, &v, err, errlen),
                  fail);
    c->max_results = (long)v;
    const char *tp = lookup_nonempty(lookup, ud, "TRUSTED_PROXIES");
    if (pa_proxies_parse(tp, &c->trusted_proxies) != 0) {
        snprintf(err, errlen,
                 "TRUSTED_PROXIES must be up to %d numeric IP addresses, comma-separated "
                 "(got \"%.64s\")",
                 PA_PROXY_MAX, tp);
        goto fail;
    }
    return 0;

fail:
    pa_config_free(c);
    return -1;
}

void pa_config_free(pa_config *c)
{
    pa_free_secret_str(c->database_url);
    c->database_url = NULL;
    pa_cors_free(&c->cors);
}
