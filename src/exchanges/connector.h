/* The enclave's exchange connectors: one interface every venue implements,
 * so the aggregate operation (src/enclave/enclave_ops.c) runs any venue the
 * same way: look the connector up by the credentials' `exchange`
 * (registry.h), fetch, aggregate. A connector holds the API secret while it
 * runs: this is enclave code. */
#ifndef PA_CONNECTOR_H
#define PA_CONNECTOR_H

#include "enclave_only.h"

#include <stddef.h>

#include "account_values.h"
#include "egress.h"
#include "fills.h"
#include "income.h"
#include "merkle.h"
#include "result.h"

typedef enum {
    PA_EXCHANGE_OK = 0,
    PA_EXCHANGE_REJECTED_KEY,   /* the key (or its signature) is not usable */
    PA_EXCHANGE_UNAVAILABLE,    /* connect/timeout/5xx/429, retries spent */
    PA_EXCHANGE_BAD_RESPONSE,   /* unparseable or inconsistent answer, or bad parameters */
    PA_EXCHANGE_TOO_LARGE,      /* more fills/pages than the enclave will process */
    PA_EXCHANGE_BANNED,         /* the exchange banned our address (Binance: HTTP 418) until
                                   retry_after_ms from now; nobody calls it meanwhile */
    PA_EXCHANGE_REGION_BLOCKED, /* the exchange refuses our region (HTTP 451) */
    PA_EXCHANGE_KEY_NOT_READ_ONLY, /* require_read_only, and the key can trade, transfer or
                                      withdraw: nothing else was fetched */
    PA_EXCHANGE_BAD_WINDOW,     /* the window lies wholly before the history the exchange keeps */
    PA_EXCHANGE_CANCELLED,      /* the progress hook asked the run to stop */
} pa_exchange_status;

/* How far a run is (aggregate jobs report it: docs/IPC.md, "Jobs"). */
typedef struct {
    size_t symbols_done;  /* symbols whose whole history is fetched */
    size_t symbols_total; /* symbols the run fetches; 0 until they are known */
    unsigned pages;       /* trade-history pages fetched so far */
} pa_exchange_progress;

/* Called between pages; nonzero stops the run there (PA_EXCHANGE_CANCELLED). */
typedef int (*pa_exchange_progress_fn)(void *ud, const pa_exchange_progress *pr);

#define PA_EXCHANGE_DETAIL_MAX 160
/* An account's id at the venue, as a decimal or opaque string (Binance: the
 * `uid` of GET /api/v3/account). */
#define PA_ACCOUNT_UID_MAX 64

/* What the venue says the API key may do (Binance: GET
 * /sapi/v1/account/apiRestrictions), one flag per payload field of
 * key_permissions (docs/PROTOCOL.md). */
typedef struct {
    int known; /* the venue answered; the flags below are its answer */
    int read, spot_trade, margin, futures, withdraw, internal_transfer, universal_transfer,
        ip_restricted;
    int other_trading; /* trading rights the payload does not name (options, portfolio margin) */
} pa_key_permissions;

/* The key can move money: trade, transfer or withdraw. */
int pa_key_permissions_move_money(const pa_key_permissions *k);

typedef struct {
    const char *base_url;       /* e.g. https://api.binance.com (no trailing slash) */
    const char *account_base_url; /* where the key check and the uid are asked when the
                                     venue's account endpoints live elsewhere (usdm: the
                                     spot host's /sapi/ and /api/v3/account); NULL: base_url */
    const char *api_key;        /* secret */
    const char *api_secret;     /* secret */
    const char *const *symbols; /* client-chosen symbols ("client"), or NULL: every market
                                   quoted in currency ("all") */
    size_t nsymbols;
    const char *currency;    /* the result's currency (e.g. "USDT"): the quote asset of the
                                markets an "all" scan covers */
    unsigned weight_budget;  /* request weight per minute the run may pace to; 0: the venue's
                                production budget (only the development enclave overrides it) */
    long timeout_ms;         /* per HTTP call; <= 0: the connector's default */
    const pa_egress *egress; /* transport policy; NULL: development defaults */
    long max_wait_ms;        /* time a run may spend waiting (weight budget, Retry-After,
                                backoff) besides its calls; <= 0: PA_EXCHANGE_MAX_WAIT_MS */
    int require_read_only;   /* refuse a key that can move money before fetching anything else */
    int want_account_uid;    /* fetch the account's uid into the result's account_uid */
    int want_values;         /* fetch equity, flows and daily closes into the result's values
                                (docs/METRICS.md, "Equity and flows") */
    int64_t from_ms, to_ms;  /* the result's window: a connector whose history is
                                fetched by time (usdm) fetches just that */
    pa_exchange_progress_fn progress; /* NULL: no reports */
    void *progress_ud;
} pa_exchange_params;

/* Well inside the host's 60 s wait for an aggregate answer. */
#define PA_EXCHANGE_MAX_WAIT_MS 20000L

typedef struct {
    pa_fill_list fills; /* de-duplicated by (symbol, id), sorted by (symbol, id) */
    char **symbols;     /* the symbols whose trades were fetched (malloc'd, sorted) */
    size_t nsymbols;
    size_t symbols_cap;
    const char *symbol_source;           /* how they were chosen: "all" or "client" (static) */
    char detail[PA_EXCHANGE_DETAIL_MAX]; /* non-secret description of a failure */
    int64_t retry_after_ms;              /* PA_EXCHANGE_BANNED: when calling again makes sense */
    pa_key_permissions key_permissions;  /* checked before any other signed call */
    char account_uid[PA_ACCOUNT_UID_MAX]; /* want_account_uid: the venue's id, else "" */
    pa_income_list income;               /* futures: the income rows in the covered window */
    int64_t history_from_ms;             /* futures: the earliest instant covered (0: spot) */
    pa_account_values values;            /* want_values: equity, flows, daily closes */
    /* Where the fetch's time went (wall clock, microseconds; the enclave
     * logs it with every result): inside the HTTP calls (the exchange, the
     * relay, the network), and parsing their answers as JSON. */
    int64_t io_us, json_us;
} pa_exchange_result;

/* A venue. fetch fetches every fill of the account for the params' symbols
 * (or the ones it derives), appends one audit entry per page to audit
 * (pa_exchange_audit_fetch) and fills out. On failure out holds nothing but
 * detail, whatever was appended to audit is the caller's to discard, and no
 * secret is in detail. */
typedef struct {
    const char *name; /* the credentials' "exchange", e.g. "binance" */
    const char *account_type; /* the credentials' "accountType"; NULL: "spot" */
    pa_exchange_status (*fetch)(const pa_exchange_params *p, pa_audit_log *audit,
                                pa_exchange_result *out);
} pa_connector;

void pa_exchange_result_init(pa_exchange_result *r);
void pa_exchange_result_free(pa_exchange_result *r);
/* Frees everything but detail (a failed run keeps only its explanation). */
void pa_exchange_result_fail(pa_exchange_result *r);

void pa_exchange_detail(pa_exchange_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The one audit entry shape of a fetched page (docs/PROTOCOL.md):
 * {type:"fetch", endpoint, symbol|null, page, count, first_id|null, last_id|null}. */
PA_MUST_USE int pa_exchange_audit_fetch(pa_audit_log *audit, const char *endpoint,
                                        const char *symbol, unsigned page, size_t count,
                                        const int64_t *first_id, const int64_t *last_id);

/* Reports progress through p->progress (when set): PA_EXCHANGE_CANCELLED,
 * with out->detail set, when the hook asks the run to stop. */
pa_exchange_status pa_exchange_report(const pa_exchange_params *p, pa_exchange_result *out,
                                      size_t symbols_done, unsigned pages);

/* Appends a copy of s to r->symbols (-1: out of memory). */
PA_MUST_USE int pa_exchange_add_symbol(pa_exchange_result *r, const char *s);
/* Sorts and de-duplicates r->symbols, so scope.symbols does not depend on input order. */
void pa_exchange_sort_symbols(pa_exchange_result *r);
/* Sorts fills by (symbol, id) — per symbol, execution order — keeping the
 * first of any repeated (symbol, id). */
void pa_exchange_dedup_fills(pa_fill_list *l);

#endif
