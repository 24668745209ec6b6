/* What every connector shares: the result's life cycle, the audit entry of a
 * fetched page, and the ordering rules of symbols and fills. Venue-neutral. */
#include "connector.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pa_key_permissions_move_money(const pa_key_permissions *k)
{
    return k->spot_trade || k->margin || k->futures || k->withdraw || k->internal_transfer ||
           k->universal_transfer || k->other_trading;
}

void pa_exchange_result_init(pa_exchange_result *r)
{
    memset(r, 0, sizeof *r);
    pa_fill_list_init(&r->fills);
}

void pa_exchange_result_free(pa_exchange_result *r)
{
    if (r == NULL)
        return;
    pa_fill_list_free(&r->fills);
    pa_income_list_free(&r->income);
    pa_account_values_free(&r->values);
    for (size_t i = 0; i < r->nsymbols; i++)
        free(r->symbols[i]);
    free(r->symbols);
    memset(r, 0, sizeof *r);
}

void pa_exchange_result_fail(pa_exchange_result *r)
{
    char detail[sizeof r->detail];
    int64_t retry_after = r->retry_after_ms;
    memcpy(detail, r->detail, sizeof detail);
    pa_exchange_result_free(r);
    memcpy(r->detail, detail, sizeof detail);
    r->retry_after_ms = retry_after;
}

void pa_exchange_detail(pa_exchange_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

int pa_exchange_audit_fetch(pa_audit_log *audit, const char *endpoint, const char *symbol,
                            unsigned page, size_t count, const int64_t *first_id,
                            const int64_t *last_id)
{
    json_t *e = json_object();
    int bad = e == NULL;
    if (!bad) {
        bad |= json_object_set_new(e, "type", json_string("fetch"));
        bad |= json_object_set_new(e, "endpoint", json_string(endpoint));
        bad |= json_object_set_new(e, "symbol", symbol ? json_string(symbol) : json_null());
        bad |= json_object_set_new(e, "page", json_integer((json_int_t)page));
        bad |= json_object_set_new(e, "count", json_integer((json_int_t)count));
        bad |= json_object_set_new(e, "first_id",
                                   first_id ? json_integer((json_int_t)*first_id) : json_null());
        bad |= json_object_set_new(e, "last_id",
                                   last_id ? json_integer((json_int_t)*last_id) : json_null());
    }
    if (!bad)
        bad = pa_audit_append(audit, e) != 0;
    json_decref(e);
    return bad ? -1 : 0;
}

int pa_exchange_add_symbol(pa_exchange_result *r, const char *s)
{
    if (r->nsymbols == r->symbols_cap) {
        size_t ncap = r->symbols_cap ? r->symbols_cap * 2 : 16;
        char **v = realloc(r->symbols, ncap * sizeof *v);
        PA_ENSURE(v != NULL);
        r->symbols = v;
        r->symbols_cap = ncap;
    }
    r->symbols[r->nsymbols] = strdup(s);
    PA_ENSURE(r->symbols[r->nsymbols] != NULL);
    r->nsymbols++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pa_exchange_sort_symbols(pa_exchange_result *r)
{
    if (r->nsymbols == 0)
        return;
    qsort(r->symbols, r->nsymbols, sizeof *r->symbols, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < r->nsymbols; i++) {
        if (strcmp(r->symbols[w - 1], r->symbols[i]) == 0)
            free(r->symbols[i]);
        else
            r->symbols[w++] = r->symbols[i];
    }
    r->nsymbols = w;
}

static int cmp_fill(const void *a, const void *b)
{
    const pa_fill *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    return (x->id > y->id) - (x->id < y->id);
}

void pa_exchange_dedup_fills(pa_fill_list *l)
{
    if (l->len == 0)
        return;
    qsort(l->v, l->len, sizeof *l->v, cmp_fill);
    size_t w = 1;
    for (size_t i = 1; i < l->len; i++) {
        if (cmp_fill(&l->v[w - 1], &l->v[i]) != 0) {
            if (w != i)
                l->v[w] = l->v[i];
            w++;
        }
    }
    l->len = w;
}

pa_exchange_status pa_exchange_report(const pa_exchange_params *p, pa_exchange_result *out,
                                      size_t symbols_done, unsigned pages)
{
    if (p == NULL || p->progress == NULL)
        return PA_EXCHANGE_OK;
    pa_exchange_progress pr = {symbols_done, out->nsymbols, pages};
    if (p->progress(p->progress_ud, &pr) == 0)
        return PA_EXCHANGE_OK;
    pa_exchange_detail(out, "the run was cancelled");
    return PA_EXCHANGE_CANCELLED;
}
