/* aggregate_scale: the enclave's aggregation of a large history, in-process,
 * for `make bench` (scripts/bench.sh; docs/BENCHMARKS.md "Aggregation").
 *
 * Builds N spot fills over 365 days on 50 USDT markets (a random walk of
 * prices with 8-decimal amounts, buys and sells at random, fees in the quote,
 * base and BNB), the daily closes of every market, a daily equity point and
 * 200 deposits and withdrawals, then times pa_aggregate (spot: FIFO, the
 * daily marks, round trips, returns and risk) and pa_aggregate_futures (the
 * same fills as a USD-M history plus one income row per fill: its
 * commission or a funding payment). The input is built before the clock starts.
 *
 * Usage: aggregate_scale [FILLS] [REPEATS]  (defaults 1000000 and 3)
 * Prints one JSON object: the median seconds of each aggregate (wall
 * clock and this process's CPU time) and the
 * process's peak RSS before and after aggregating (the growth is what the
 * aggregation itself allocated, to compare across sizes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "account_values.h"
#include "aggregate.h"
#include "fills.h"
#include "income.h"

#define DAY_MS 86400000LL
#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define DAYS 365
#define SYMBOLS 50
#define UNIT ((pa_dec_int)100000000) /* 10^8: one unit of the 8th decimal is 10^8 of 10^-16 */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void) /* xorshift64*: deterministic, so runs compare */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* An amount of `units` 10^-8 steps. */
static pa_dec amt(int64_t units)
{
    pa_dec d = {.v = (pa_dec_int)units * UNIT};
    return d;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: on a shared machine the wall clock also
 * measures the neighbours. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what)
{
    fprintf(stderr, "aggregate_scale: %s\n", what);
    exit(1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : PA_FILLS_MAX;
    int repeats = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (n < 1 || n > PA_FILLS_MAX || repeats < 1 || repeats > 50)
        die("usage: aggregate_scale [FILLS 1..1000000] [REPEATS 1..50]");

    pa_fill *fills = calloc((size_t)n, sizeof *fills);
    pa_income *income = calloc((size_t)n, sizeof *income);
    if (fills == NULL || income == NULL)
        die("out of memory");
    int64_t price[SYMBOLS], held[SYMBOLS]; /* price in 10^-8 USDT, held in 10^-8 base */
    for (int s = 0; s < SYMBOLS; s++) {
        price[s] = (int64_t)(1 + rnd() % 50000) * 100000000LL; /* 1 .. 50000 USDT */
        held[s] = 0;
    }
    pa_account_values v;
    pa_account_values_init(&v);
    /* Fills spread evenly over the year, in time order per symbol. */
    const int64_t step = (int64_t)DAYS * DAY_MS / n;
    for (long i = 0; i < n; i++) {
        pa_fill *f = &fills[i];
        int s = (int)(rnd() % SYMBOLS);
        snprintf(f->symbol, sizeof f->symbol, "S%02dUSDT", s);
        snprintf(f->base, sizeof f->base, "S%02d", s);
        snprintf(f->quote, sizeof f->quote, "USDT");
        f->id = i + 1;
        f->time_ms = T0 + i * step;
        /* +-0.5% moves of the price */
        int64_t move = price[s] / 200;
        price[s] += move > 0 ? (int64_t)(rnd() % (uint64_t)(2 * move + 1)) - move : 0;
        if (price[s] < 100)
            price[s] = 100;
        int64_t qty = (int64_t)(1 + rnd() % 100000000); /* up to 1 base unit */
        f->is_buyer = held[s] < qty || rnd() % 2 == 0;
        held[s] += f->is_buyer ? qty : -qty;
        f->price = amt(price[s]);
        f->qty = amt(qty);
        if (pa_dec_mul(f->price, f->qty, &f->quote_qty) != 0)
            die("quote_qty");
        f->quote_qty = pa_dec_round8(f->quote_qty);
        int64_t fee_units = qty / 1000; /* 0.1% in the base asset */
        switch (i % 3) {
        case 0:
            f->commission = amt(fee_units);
            snprintf(f->commission_asset, sizeof f->commission_asset, "%s", f->base);
            break;
        case 1:
            f->commission = pa_dec_round8((pa_dec){.v = f->quote_qty.v / 1000});
            snprintf(f->commission_asset, sizeof f->commission_asset, "USDT");
            break;
        default:
            f->commission = amt(1000);
            snprintf(f->commission_asset, sizeof f->commission_asset, "BNB");
        }
        /* One income row per fill (PA_INCOME_MAX): its commission, or a
         * funding payment every other fill. */
        pa_income *x = &income[i];
        if (i % 2 == 0)
            *x = (pa_income){.type = PA_INCOME_COMMISSION,
                             .time_ms = f->time_ms,
                             .amount = {.v = -f->commission.v},
                             .tran_id = i};
        else
            *x = (pa_income){.type = PA_INCOME_FUNDING_FEE,
                             .time_ms = f->time_ms,
                             .amount = amt((int64_t)(rnd() % 2001) - 1000),
                             .tran_id = i};
        snprintf(x->symbol, sizeof x->symbol, "%s", f->symbol);
        snprintf(x->asset, sizeof x->asset, "USDT");
    }
    /* Daily closes of every market (sorted by symbol, day), equity, flows. */
    for (int s = 0; s < SYMBOLS; s++)
        for (int d = -1; d < DAYS; d++) {
            pa_daily_close c;
            memset(&c, 0, sizeof c);
            snprintf(c.symbol, sizeof c.symbol, "S%02dUSDT", s);
            c.day = T0 / DAY_MS + d;
            c.close = amt(price[s] + (int64_t)(rnd() % 1000));
            if (pa_close_push(&v.closes, &c) != 0)
                die("closes");
        }
    int64_t eq = 1000000LL * 100000000LL;
    for (int d = -1; d < DAYS; d++) {
        eq += (int64_t)(rnd() % 2000001) * 100000000LL / 100 - 10000LL * 100000000LL;
        pa_equity_point p = {.day = T0 / DAY_MS + d, .equity = amt(eq)};
        if (pa_equity_push(&v.equity, &p) != 0)
            die("equity");
    }
    for (int k = 0; k < 200; k++) {
        pa_flow fl;
        memset(&fl, 0, sizeof fl);
        fl.time_ms = T0 + (int64_t)k * (DAYS * DAY_MS / 200) + 1;
        fl.amount = amt((k % 2 ? -1 : 1) * 5000LL * 100000000LL);
        fl.kind = k % 2 ? PA_FLOW_WITHDRAWAL : PA_FLOW_DEPOSIT;
        if (pa_flow_push(&v.flows, &fl) != 0)
            die("flows");
    }

    const pa_agg_params p = {
        .from_ms = T0, .to_ms = T0 + DAYS * DAY_MS, .currency = "USDT", .values = &v};
    const long rss_input = peak_rss_kb();
    double spot[50], usdm[50], spot_cpu[50], usdm_cpu[50];
    pa_agg_result r;
    int64_t trades = 0, trips = 0;
    for (int k = 0; k < repeats; k++) {
        double t = mono_s(), c = cpu_s();
        if (pa_aggregate(fills, (size_t)n, &p, &r) != 0)
            die("pa_aggregate failed");
        spot[k] = mono_s() - t;
        spot_cpu[k] = cpu_s() - c;
        trades = r.trades;
        trips = r.round_trips;
        pa_agg_result_free(&r);
        t = mono_s();
        c = cpu_s();
        if (pa_aggregate_futures(fills, (size_t)n, income, (size_t)n, &p, &r) != 0)
            die("pa_aggregate_futures failed");
        usdm[k] = mono_s() - t;
        usdm_cpu[k] = cpu_s() - c;
        pa_agg_result_free(&r);
    }
    const long rss_peak = peak_rss_kb();
    qsort(spot, (size_t)repeats, sizeof *spot, cmp_double);
    qsort(usdm, (size_t)repeats, sizeof *usdm, cmp_double);
    qsort(spot_cpu, (size_t)repeats, sizeof *spot_cpu, cmp_double);
    qsort(usdm_cpu, (size_t)repeats, sizeof *usdm_cpu, cmp_double);
    printf("{\"fills\": %ld, \"days\": %d, \"symbols\": %d, \"repeats\": %d, \"trades\": %lld, "
           "\"round_trips\": %lld, \"spot_s\": %.4f, \"usdm_s\": %.4f, \"spot_cpu_s\": %.4f, "
           "\"usdm_cpu_s\": %.4f, \"rss_input_kb\": %ld, "
           "\"rss_peak_kb\": %ld, \"aggregate_kb\": %ld}\n",
           n, DAYS, SYMBOLS, repeats, (long long)trades, (long long)trips, spot[repeats / 2],
           usdm[repeats / 2], spot_cpu[repeats / 2], usdm_cpu[repeats / 2], rss_input, rss_peak,
           rss_peak - rss_input);
    pa_account_values_free(&v);
    free(fills);
    free(income);
    return 0;
}
