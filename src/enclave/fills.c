#include "fills.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */

int pa_fill_set_amounts(pa_fill *f, const char *price, const char *qty, const char *quote_qty,
                        const char *commission)
{
    PA_ENSURE(f != NULL);
    pa_dec p, q, qq, c;
    PA_GUARD(pa_dec_parse_str(price, 0, &p));
    PA_GUARD(pa_dec_parse_str(qty, 0, &q));
    PA_GUARD(pa_dec_parse_str(quote_qty, 0, &qq));
    PA_GUARD(pa_dec_parse_str(commission, PA_DEC_NEG, &c));
    f->price = p;
    f->qty = q;
    f->quote_qty = qq;
    f->commission = c;
    return 0;
}

void pa_fill_list_init(pa_fill_list *l)
{
    if (l == NULL)
        return;
    l->v = NULL;
    l->len = 0;
    l->cap = 0;
}

/* Grow by copying into a fresh block and wiping the old one: a trader's fills
 * are what the enclave exists to keep private, and realloc could leave a copy
 * of them in freed heap memory. */
static int fill_list_grow(pa_fill_list *l)
{
    size_t ncap = l->cap ? l->cap * 2 : 256;
    if (ncap > PA_FILLS_MAX)
        ncap = PA_FILLS_MAX;
    pa_fill *nv = malloc(ncap * sizeof *nv);
    if (nv == NULL)
        return -1;
    if (l->len > 0)
        memcpy(nv, l->v, l->len * sizeof *nv);
    pa_free_secret(l->v, l->cap * sizeof *l->v);
    l->v = nv;
    l->cap = ncap;
    return 0;
}

int pa_fill_list_push(pa_fill_list *l, const pa_fill *f)
{
    PA_ENSURE(l != NULL && f != NULL);
    PA_ENSURE(l->len < PA_FILLS_MAX); /* the cap on a list fed by the exchange */
    if (l->len == l->cap)
        PA_GUARD(fill_list_grow(l));
    l->v[l->len++] = *f;
    return 0;
}

void pa_fill_list_free(pa_fill_list *l)
{
    if (l == NULL)
        return;
    pa_free_secret(l->v, l->cap * sizeof *l->v);
    pa_fill_list_init(l);
}
