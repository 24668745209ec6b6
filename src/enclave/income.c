#include "income.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h" /* pa_free_secret */

void pa_income_list_init(pa_income_list *l)
{
    if (l == NULL)
        return;
    memset(l, 0, sizeof *l);
}

/* Grown by copy and wipe, not realloc: realloc could leave a copy of the
 * trader's income in freed memory (as fills.c). */
int pa_income_list_push(pa_income_list *l, const pa_income *r)
{
    PA_ENSURE(l != NULL && r != NULL && l->len < PA_INCOME_MAX);
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        if (ncap > PA_INCOME_MAX)
            ncap = PA_INCOME_MAX;
        pa_income *nv = malloc(ncap * sizeof *nv);
        PA_ENSURE(nv != NULL);
        if (l->len > 0)
            memcpy(nv, l->v, l->len * sizeof *nv);
        pa_free_secret(l->v, l->cap * sizeof *l->v);
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->len++] = *r;
    return 0;
}

void pa_income_list_free(pa_income_list *l)
{
    if (l == NULL)
        return;
    pa_free_secret(l->v, l->cap * sizeof *l->v);
    pa_income_list_init(l);
}
