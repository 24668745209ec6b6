/* perfagg-server configuration, read once at start-up from the environment.
 * Every value is validated; an invalid one stops the server with a sentence
 * naming the variable (docs/API.md, "Configuration"). */
#ifndef PA_CONFIG_H
#define PA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cors.h"
#include "proxy.h"
#include "result.h"

#define PA_CONFIG_SOCKET_MAX 108 /* sizeof(sockaddr_un.sun_path) */

typedef struct {
    unsigned port;                 /* ENCLAVE_PORT, the HTTP port */
    char listen_address[64];       /* LISTEN_ADDRESS, numeric IPv4 or IPv6 */
    int listen_ipv6;               /* the address above is IPv6 */
    char *database_url;            /* DATABASE_URL (may hold a password: wiped on free) */
    int64_t max_ttl_s;             /* MAX_TTL_SECONDS */
    long rate_limit_max;           /* RATE_LIMIT_MAX requests ... */
    int64_t rate_limit_window_ms;  /* ... per RATE_LIMIT_WINDOW ms */
    pa_cors cors;                  /* ALLOWED_ORIGINS */
    int64_t cleanup_interval_s;    /* CLEANUP_INTERVAL_SECONDS */
    char enclave_socket[PA_CONFIG_SOCKET_MAX]; /* Unix path or vsock://CID:PORT (ENCLAVE_ADDR) */
    int db_pool;                   /* PERFAGG_DB_POOL */
    long max_results;              /* MAX_RESULTS_PER_SESSION */
    pa_proxies trusted_proxies;    /* TRUSTED_PROXIES */
    int64_t aggregate_sync_timeout_ms; /* PERFAGG_AGGREGATE_SYNC_TIMEOUT_MS: request_aggregates'
                                          wait for its job before answering 202 */
} pa_config;

/* Looks a variable up; NULL when unset. getenv in production, a table in tests. */
typedef const char *(*pa_config_lookup)(const char *name, void *ud);

/* Fills c from lookup. On failure writes one sentence to err and returns -1
 * (c is then freed). An empty variable counts as unset. */
PA_MUST_USE int pa_config_load(pa_config *c, pa_config_lookup lookup, void *ud, char *err,
                               size_t errlen);
void pa_config_free(pa_config *c);

/* Strict unsigned decimal: digits only, no sign or blanks, within [min, max]. */
PA_MUST_USE int pa_config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
