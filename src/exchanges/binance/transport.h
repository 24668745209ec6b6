/* Binance's REST transport: one libcurl easy handle per run (so every call
 * reuses the connection and the relay's tunnel), signed GETs as Binance
 * documents them (HMAC-SHA256 hex of the query string as `signature`, or
 * for an Ed25519 API key base64 of its Ed25519 signature, percent-encoded;
 * X-MBX-APIKEY header, timestamp + recvWindow), and the clock resync on
 * -1021. The transport policy (TLS trust, protocols, no redirects, the
 * relay) is egress.c's: every handle goes through pa_egress_curl_setup. */
#ifndef PA_BINANCE_TRANSPORT_H
#define PA_BINANCE_TRANSPORT_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "connector.h"
#include "result.h"

#define PA_BN_BODY_CAP (8u << 20)           /* account, myTrades, time, errors */
#define PA_BN_EXCHANGE_INFO_CAP (32u << 20) /* the full symbol list is several MB */
#define PA_BN_DEFAULT_TIMEOUT_MS 15000L

typedef struct {
    const pa_exchange_params *p; /* holds the key and secret */
    pa_exchange_result *out;     /* failures are described in out->detail */
    CURL *curl;
    struct curl_slist *headers;
    pa_buf hdr; /* "X-MBX-APIKEY: <key>", wiped on close */
    pa_buf body;
    size_t body_limit;
    int body_overflow;
    int64_t clock_offset_ms; /* server time - local time, after a -1021 */
    int64_t wait_left_ms;    /* what is left of the run's waiting allowance (max_wait_ms) */
    long used_weight;        /* X-MBX-USED-WEIGHT-1M of the last answer, -1 when absent */
    long used_sapi_weight;   /* X-SAPI-USED-IP-WEIGHT-1M of the last answer, -1 when absent */
    long last_code;          /* Binance's error code of the last failed call (0: none) */
    char sapi_host[600];     /* the pacing key of the host's /sapi/ limiter */
    long retry_after_s;      /* Retry-After of the last answer, -1 when absent */
    EVP_PKEY *ed25519;       /* an Ed25519 API key's private key (secure heap), else NULL */
    int bad_key;             /* open failed on the secret itself, not on the HTTP client */
} pa_bn_transport;

/* Binance's REQUEST_WEIGHT limit is 6000 per minute and IP; the enclave
 * keeps a fifth of it free for what it cannot count (other users of the
 * address, clock differences at the minute boundary). */
#define PA_BN_WEIGHT_BUDGET 4800
/* The same fifth kept free of USD-M futures' 2400. */
#define PA_BN_FAPI_WEIGHT_BUDGET 1920
/* And of the /sapi/ endpoints' own IP limit, 12000 a minute (an account
 * snapshot alone weighs 2400). */
#define PA_BN_SAPI_WEIGHT_BUDGET 9600
/* Retries of one call after HTTP 5xx, 429 or a network failure. */
#define PA_BN_MAX_RETRIES 3
#define PA_BN_BACKOFF_BASE_MS 250
#define PA_BN_BACKOFF_CAP_MS 4000
/* A 418 without Retry-After: Binance's bans start at 2 minutes. */
#define PA_BN_BAN_DEFAULT_S 120

/* The base URL is http(s), without a trailing slash, query or fragment. */
int pa_bn_base_url_ok(const char *u);
/* The key is a header value: printable ASCII without spaces (no header injection). */
int pa_bn_key_ok(const char *k);

/* Sets up the easy handle for p; -1 with out->detail set. Close it either way. */
PA_MUST_USE int pa_bn_transport_open(pa_bn_transport *t, const pa_exchange_params *p,
                                     pa_exchange_result *out);
void pa_bn_transport_close(pa_bn_transport *t);

/* A GET on path with params ("" for none). On PA_EXCHANGE_OK *out is the
 * parsed body (the caller's to json_decref). Signed calls get recvWindow,
 * timestamp and signature appended, and after a -1021 one retry with the
 * server's clock (GET /api/v3/time). Every call first takes its weight from
 * the host's shared budget (pacing.h); HTTP 5xx, 429 and network failures
 * are retried (every call is an idempotent read) with jittered exponential
 * backoff or after Retry-After, at most PA_BN_MAX_RETRIES times and never
 * past the run's waiting allowance; HTTP 418 bans the host for every session until its
 * Retry-After (PA_EXCHANGE_BANNED); HTTP 451 is PA_EXCHANGE_REGION_BLOCKED. */
pa_exchange_status pa_bn_get(pa_bn_transport *t, const char *path, const char *params,
                             int is_signed, size_t limit, json_t **out);

/* The request signature: lowercase hex HMAC-SHA256(secret, query). */
PA_MUST_USE int pa_binance_sign(const char *secret, const char *query, char out_hex[65]);

/* An apiSecret in PEM ("-----BEGIN ..."): an Ed25519 API key's private key. */
int pa_binance_secret_is_pem(const char *secret);
/* The PEM private key, which must be Ed25519, into *out (OpenSSL keeps its
 * private part in the secure heap and wipes it on EVP_PKEY_free). */
PA_MUST_USE int pa_binance_load_ed25519(const char *pem, EVP_PKEY **out);
/* An Ed25519 key's request signature as it goes into the query:
 * base64(Ed25519(query)), percent-encoded ('+' '/' '=' as %2B %2F %3D). */
#define PA_BN_ED25519_SIG_MAX (88 * 3 + 1)
PA_MUST_USE int pa_binance_sign_ed25519(EVP_PKEY *key, const char *query,
                                        char out[PA_BN_ED25519_SIG_MAX]);

#endif
