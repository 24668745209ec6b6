/* What pa_aggregate (spot) and pa_aggregate_futures share: the FIFO book
 * with its mark to the daily closes, the per-day accumulators, round trips,
 * and the step that turns the days into the result's series, returns and
 * risk figures (docs/METRICS.md). Internal to src/enclave's aggregate
 * library. Pure: no I/O, no clock, no global state. */
#ifndef PA_AGG_INTERNAL_H
#define PA_AGG_INTERNAL_H

#include "enclave_only.h"

#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"

/* RFC 3339's years 0000-9999 (what pa_time_parse accepts): keeps day
 * arithmetic far from int64 overflow. */
#define AGG_TIME_MIN (-62167219200000LL) /* 0000-01-01T00:00:00Z */
#define AGG_TIME_MAX 253402300800000LL   /* 10000-01-01T00:00:00Z */
/* The daily series is an array of one value per day; the server caps windows
 * at 366 days, this is only a bound on the allocation (about 100 years). */
#define AGG_DAYS_MAX 36600
#define AGG_DAY_MS 86400000LL

/* An open FIFO lot: cost = fill price, qty signed (> 0 long, < 0 short);
 * all open lots of a book have one sign. */
typedef struct {
    pa_dec price;
    pa_dec qty;
} agg_lot;

typedef struct {
    agg_lot *v;
    size_t head, len, cap; /* open lots are v[head..len) */
    pa_dec q;              /* net open quantity: sum of the lots' qty */
    pa_dec cost;           /* sum of price * qty over the open lots */
} agg_book;

/* A fill of signed quantity sq (> 0 buy, < 0 sell) at price: closes
 * opposite lots oldest first, adding their realized PnL to *realized;
 * what is left opens a lot when allow_short, or (long-only spot, a sell
 * beyond the inventory) is returned in *excess as a positive quantity. */
PA_MUST_USE int agg_book_fill(agg_book *b, pa_dec price, pa_dec sq, int allow_short,
                              pa_dec *realized, pa_dec *excess);
void agg_book_clear(agg_book *b);
void agg_book_free(agg_book *b);

/* A fill's place in the walk: symbols by name (as ranks, so sorting
 * compares integers, not strings: at a million fills the string compares
 * were most of the time), then time, then the exchange id. */
typedef struct {
    uint32_t sym;      /* rank of the symbol's name among the fills' symbols */
    uint32_t in_quote; /* the fill's quote asset is the currency */
    int64_t time_ms;
    int64_t id;
    const pa_fill *f;
} agg_key;

/* keys[i] for fills[i] (n >= 0; *keys is never NULL on success, free it
 * with pa_free_secret(*keys, max(n, 1) * sizeof **keys)). With check, -1
 * when two fills share a symbol and an id, or one symbol appears with two
 * base/quote pairs, and the keys come back sorted by (symbol, id) instead.
 * The walks read each fill through its key: the keys carry what the
 * filtering needs, so only the fills that are walked are touched, once. */
PA_MUST_USE int agg_keys(const pa_fill *fills, size_t n, int check, const char *currency,
                         agg_key **keys);
/* Sorts keys[0..m) by (symbol, time, id). */
void agg_keys_sort(agg_key *keys, size_t m);
/* A fill the walk will read a few steps ahead: the fills are far apart in
 * memory once sorted by symbol, and a million cache misses in a row were
 * a third of the time. */
#define AGG_PREFETCH_AHEAD 16

/* Per-run state shared by the two aggregates. Day index d = day - day0;
 * mark[] has days + 1 entries: mark[0] is the open inventory at `from`
 * marked at the close of the day before, mark[d + 1] the inventory at the
 * end of day d (or at `to`) marked at day d's close. */
typedef struct {
    const pa_agg_params *p;
    int64_t day0;
    size_t days;
    pa_dec *raw;                    /* realized - fees + funding booked on each day, exact */
    pa_dec *mark;                   /* days + 1 marks, summed over symbols */
    int64_t *fills;                 /* counted fills in the window, per day */
    pa_dec realized, fees, funding; /* window totals, exact */
    /* Round trips closed in the window. */
    int64_t trips, wins;
    pa_dec won, lost; /* sums of the winning trips' PnL and of the losing ones' (<= 0) */
} agg_run;

PA_MUST_USE int agg_run_init(agg_run *r, const pa_agg_params *p);
void agg_run_free(agg_run *r);
/* The params' values lists are what returns.c and the marks expect:
 * valid decimals, sorted as account_values.h says. */
int agg_values_ok(const pa_account_values *v);

/* One symbol's walk: fills in time order through agg_symbol_fill, the
 * marks emitted at each day boundary the walk passes. */
typedef struct {
    agg_run *run;
    agg_book book;
    const pa_daily_close *closes; /* this symbol's, sorted by day */
    size_t nclose, at;            /* cursor: closes[at - 1] is the latest used */
    size_t next;                  /* next boundary to mark: 0 .. days */
    /* The current round trip. held is the position it follows: the book's
     * net quantity for futures; for spot the base asset the fills left in
     * the account (a fee paid in the base asset is not held), floored at 0. */
    pa_dec held, trip_pnl;
    int in_trip;
} agg_symbol;

PA_MUST_USE int agg_symbol_begin(agg_symbol *s, agg_run *r, const char *symbol);
/* Marks every boundary at or before t (the state at a boundary is the one
 * after all fills strictly before it). */
PA_MUST_USE int agg_symbol_mark_until(agg_symbol *s, int64_t t);
/* A fill's effect on the trip: realized is its FIFO result, fee what it
 * cost in the currency, held_delta the position change (see held). */
PA_MUST_USE int agg_symbol_trip(agg_symbol *s, const pa_fill *f, pa_dec realized, pa_dec fee,
                                pa_dec held_delta, int allow_short);
/* The rest of the boundaries, then the book's memory back for the next. */
PA_MUST_USE int agg_symbol_end(agg_symbol *s);

/* The days into the result: rounding, pnl and its parts, the series, the
 * equity-based returns and risk, best and worst day. */
PA_MUST_USE int agg_finish(agg_run *run, pa_agg_result *r);

#endif
