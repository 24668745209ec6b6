#include "account_values.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */

/* A bound on each list: a year of days for a few thousand markets. */
#define VALUES_MAX 4000000

/* One growth rule for the three lists: a fresh array, the old one wiped
 * (realloc could leave a copy in freed memory, as fills.c explains). */
static int grow(void **v, size_t *cap, size_t len, size_t elem)
{
    PA_ENSURE(len < VALUES_MAX);
    if (len < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap > VALUES_MAX)
        ncap = VALUES_MAX;
    void *nv = malloc(ncap * elem);
    PA_ENSURE(nv != NULL);
    if (len > 0)
        memcpy(nv, *v, len * elem);
    pa_free_secret(*v, *cap * elem);
    *v = nv;
    *cap = ncap;
    return 0;
}

int pa_equity_push(pa_equity_list *l, const pa_equity_point *p)
{
    PA_ENSURE(l != NULL && p != NULL);
    PA_GUARD(grow((void **)&l->v, &l->cap, l->len, sizeof *l->v));
    l->v[l->len++] = *p;
    return 0;
}

int pa_flow_push(pa_flow_list *l, const pa_flow *f)
{
    PA_ENSURE(l != NULL && f != NULL);
    PA_GUARD(grow((void **)&l->v, &l->cap, l->len, sizeof *l->v));
    l->v[l->len++] = *f;
    return 0;
}

int pa_close_push(pa_close_list *l, const pa_daily_close *c)
{
    PA_ENSURE(l != NULL && c != NULL);
    PA_GUARD(grow((void **)&l->v, &l->cap, l->len, sizeof *l->v));
    l->v[l->len++] = *c;
    return 0;
}

void pa_account_values_init(pa_account_values *v)
{
    if (v != NULL)
        memset(v, 0, sizeof *v);
}

void pa_account_values_free(pa_account_values *v)
{
    if (v == NULL)
        return;
    pa_free_secret(v->equity.v, v->equity.cap * sizeof *v->equity.v);
    pa_free_secret(v->flows.v, v->flows.cap * sizeof *v->flows.v);
    pa_free_secret(v->closes.v, v->closes.cap * sizeof *v->closes.v);
    pa_account_values_init(v);
}
