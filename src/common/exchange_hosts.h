/* The exchange endpoints perfagg trusts, defined once. The production enclave
 * compiles them in (a host cannot point it elsewhere), the client requires a
 * production result to name them, and the egress relay allows them by
 * default. */
#ifndef PA_EXCHANGE_HOSTS_H
#define PA_EXCHANGE_HOSTS_H

/* Binance spot REST: scheme and host, no trailing slash. */
#define PA_BINANCE_BASE_URL "https://api.binance.com"
/* The same endpoint as host:port, the form of the relay's allow-list. */
#define PA_BINANCE_RELAY_TARGET "api.binance.com:443"
/* Binance USD-M futures REST (accountType "usdm"), in both forms. */
#define PA_BINANCE_FUTURES_BASE_URL "https://fapi.binance.com"
#define PA_BINANCE_FUTURES_RELAY_TARGET "fapi.binance.com:443"

#endif
