/* How the enclave's exchange connections leave it: the libcurl transport
 * settings (protocols, TLS trust, proxying) in one place, so that the
 * production build's policy is a value built by enclave_config.c and not scattered
 * over the connector.
 *
 * With a relay, every connection is an HTTP CONNECT tunnel through it (TLS
 * runs end to end inside the enclave); the socket to the relay is opened by
 * us (unix, tcp or vsock, as on Nitro, where the enclave has no network of
 * its own), never by libcurl's resolver. Without one (development only) curl
 * connects directly. Proxy and CA environment variables never apply. */
#ifndef PA_EGRESS_H
#define PA_EGRESS_H

#include "enclave_only.h"

#include <stddef.h>

#include <curl/curl.h>

#include "ipc_addr.h"
#include "result.h"

typedef struct {
    int https_only;                 /* CURLOPT_PROTOCOLS_STR "https" instead of "https,http" */
    const unsigned char *ca_blob;   /* trusted roots (PEM), used when set ... */
    size_t ca_blob_len;
    const char *ca_file;            /* ... else this file, else PA_EGRESS_SYSTEM_CA */
    int use_relay;
    pa_ipc_addr relay;              /* the CONNECT relay, when use_relay */
    int bridge;                     /* reach the relay through an in-process bridge (below) */
} pa_egress;

/* Debian's bundle, named explicitly so CURL_CA_BUNDLE / SSL_CERT_FILE /
 * SSL_CERT_DIR cannot substitute another one. */
#define PA_EGRESS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* Applies the transport settings to an easy handle. g == NULL means the
 * development defaults (direct, https or http, the system CA file). */
PA_MUST_USE int pa_egress_curl_setup(CURL *e, const pa_egress *g);

/* 1 when this libcurl honours CURL_SOCKOPT_ALREADY_CONNECTED (8.0.0 and
 * later), so it can be handed a connected vsock socket. With an older one
 * (Debian 12: 7.88) enclave_config.c sets `bridge`: curl connects to a one-shot
 * abstract Unix socket of this process, and a thread splices that
 * connection to the relay (TLS bytes only). */
int pa_egress_vsock_supported(void);

#endif
