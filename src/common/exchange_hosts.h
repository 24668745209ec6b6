/* The exchange endpoints a production enclave build talks to. One home for
 * both sides: the enclave compiles them in, and a verifier (perfagg verify)
 * requires a production result to name exactly these. */
#ifndef PA_EXCHANGE_HOSTS_H
#define PA_EXCHANGE_HOSTS_H

/* Binance spot REST API (no trailing slash). */
#define PA_BINANCE_BASE_URL "https://api.binance.com"

#endif
