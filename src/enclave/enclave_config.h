/* The enclave's result-affecting configuration, and who may choose it.
 *
 * The same sources build two enclaves:
 *   perfagg-enclave             development: the host may override the
 *                               exchange URL (BINANCE_BASE_URL), the trusted
 *                               roots (PERFAGG_CA_FILE), the timeout
 *                               (PERFAGG_EXCHANGE_TIMEOUT_MS) and the request
 *                               weight budget per minute
 *                               (PERFAGG_EXCHANGE_WEIGHT_BUDGET, for test
 *                               simulators with raised limits), and may accept
 *                               keys that can trade, transfer or withdraw
 *                               (PERFAGG_REQUIRE_READ_ONLY_KEYS=0; default 1);
 *                               its results say "environment": "development".
 *   perfagg-enclave-production  compiled with PA_ENCLAVE_PRODUCTION=1: the
 *                               exchange URL (exchange_hosts.h), the trusted
 *                               roots (embedded at build time), the timeout,
 *                               REQUIRE_READ_ONLY_KEYS (true) and libcurl's policy (HTTPS only, through the
 *                               relay) are compiled in; setting any of those
 *                               variables makes it refuse to start.
 * Different code, so a different measurement (PCR0 / image hash).
 *
 * In both, PERFAGG_EGRESS_RELAY names the CONNECT relay (ipc_addr.h
 * syntax): it only ever sees TLS, so it cannot change a result, only deny
 * one. */
#ifndef PA_ENCLAVE_CONFIG_H
#define PA_ENCLAVE_CONFIG_H

#include "enclave_only.h"

#include <limits.h>
#include <stddef.h>

#include "egress.h"
#include "result.h"

#define PA_ENCLAVE_URL_MAX 512
#define PA_ENCLAVE_CA_MAX (1 << 20) /* PERFAGG_CA_FILE's size cap */
#define PA_ENCLAVE_TIMEOUT_MS_DEFAULT 15000L
/* The parent instance (CID 3) as seen from a Nitro Enclave; the relay's port
 * there (docs/SECURITY.md, "Egress"). */
#define PA_ENCLAVE_RELAY_DEFAULT_PRODUCTION "vsock://3:8443"

typedef struct {
    int production;                 /* built with PA_ENCLAVE_PRODUCTION */
    char binance_base_url[PA_ENCLAVE_URL_MAX + 1]; /* no trailing slash */
    char binance_futures_base_url[PA_ENCLAVE_URL_MAX + 1]; /* usdm; no trailing slash */
    long exchange_timeout_ms;
    unsigned weight_budget;         /* development: PERFAGG_EXCHANGE_WEIGHT_BUDGET; 0: the venue's */
    pa_egress egress;
    char ca_file[PATH_MAX];         /* development: PERFAGG_CA_FILE, read at start-up ... */
    unsigned char *ca_pem;          /* ... into this (egress.ca_blob); lives as long as the process */
    char relay[256];                /* the relay address as configured, "" for none */
    int require_read_only_keys;     /* REQUIRE_READ_ONLY_KEYS: refuse keys that can move money */
} pa_enclave_config;

/* Fills c from the build and (development only) the environment. On failure
 * err holds a message for the operator naming the variable at fault. */
PA_MUST_USE int pa_enclave_config_load(pa_enclave_config *c, char *err, size_t errlen);

/* Variables the production build refuses: each would change a result. */
extern const char *const pa_enclave_config_refused[];
/* ... and those libcurl / OpenSSL read despite egress.c's explicit settings:
 * each would expose or weaken the enclave's TLS. */
extern const char *const pa_enclave_config_refused_tls[];

#endif
