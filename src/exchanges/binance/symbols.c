/* Symbol discovery (symbols.h). */
#include "symbols.h"

#include <string.h>

#include "account.h" /* pa_bn_decode_uid: the "all" scan's account call carries the uid */
#include "paging.h"  /* PA_BN_MAX_SYMBOLS, pa_bn_audit */

/* Past this length the symbols=[...] filter of exchangeInfo could make the URL
 * longer than front-end proxies accept; the full list is fetched instead. */
#define BN_SYMBOLS_PARAM_MAX 4000
#define BN_URL_CAP 16384

pa_exchange_status pa_bn_fetch_assets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_assets *a)
{
    json_t *doc = NULL;
    pa_exchange_status st = pa_bn_get(t, "/api/v3/account", "", 1, PA_BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    char why[128];
    if (pa_bn_decode_account(doc, a, why, sizeof why) != 0 ||
        (t->p->want_account_uid && pa_bn_decode_uid(doc, t->out->account_uid,
                                                    sizeof t->out->account_uid, why,
                                                    sizeof why) != 0)) {
        pa_exchange_detail(t->out, "binance: %s", why);
        st = PA_EXCHANGE_BAD_RESPONSE;
    } else {
        st = pa_bn_audit(t, audit, "/api/v3/account", NULL, 1, a->nonzero, NULL, NULL);
    }
    json_decref(doc);
    return st;
}

/* showPermissionSets=false drops the bulk of the full answer. */
static int bn_info_params(const pa_exchange_params *p, pa_buf *q)
{
    if (p->symbols != NULL) {
        size_t need = 0;
        for (size_t i = 0; i < p->nsymbols; i++)
            need += strlen(p->symbols[i]) + 7;
        if (need < BN_SYMBOLS_PARAM_MAX) {
            PA_GUARD(pa_buf_append_str(q, "symbols=%5B"));
            const char *sep = "";
            for (size_t i = 0; i < p->nsymbols; i++) {
                int seen = 0;
                for (size_t k = 0; k < i; k++)
                    seen |= strcmp(p->symbols[k], p->symbols[i]) == 0;
                if (seen)
                    continue;
                PA_GUARD(pa_buf_printf(q, "%s%%22%s%%22", sep, p->symbols[i]));
                sep = ",";
            }
            PA_GUARD(pa_buf_append_str(q, "%5D&"));
        }
    }
    return pa_buf_append_str(q, "showPermissionSets=false");
}

pa_exchange_status pa_bn_fetch_markets(pa_bn_transport *t, pa_audit_log *audit, pa_bn_markets *m)
{
    pa_buf q;
    pa_buf_init(&q, BN_URL_CAP);
    json_t *doc = NULL;
    pa_exchange_status st = PA_EXCHANGE_BAD_RESPONSE;
    if (bn_info_params(t->p, &q) != 0) {
        pa_exchange_detail(t->out, "binance: could not build the exchangeInfo request");
        goto cleanup;
    }
    st = pa_bn_get(t, "/api/v3/exchangeInfo", pa_buf_cstr(&q), 0, PA_BN_EXCHANGE_INFO_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        goto cleanup;
    char why[128];
    if (pa_bn_decode_exchange_info(doc, m, why, sizeof why) != 0) {
        pa_exchange_detail(t->out, "binance: %s", why);
        st = PA_EXCHANGE_BAD_RESPONSE;
        goto cleanup;
    }
    st = pa_bn_audit(t, audit, "/api/v3/exchangeInfo", NULL, 1, m->listed, NULL, NULL);
cleanup:
    json_decref(doc);
    pa_buf_free(&q);
    return st;
}

static pa_exchange_status bn_push_symbol(pa_bn_transport *t, const char *s)
{
    if (t->out->nsymbols >= PA_BN_MAX_SYMBOLS) {
        pa_exchange_detail(t->out, "binance: more than %d symbols to fetch", PA_BN_MAX_SYMBOLS);
        return PA_EXCHANGE_TOO_LARGE;
    }
    if (pa_exchange_add_symbol(t->out, s) != 0) {
        pa_exchange_detail(t->out, "binance: out of memory");
        return PA_EXCHANGE_BAD_RESPONSE;
    }
    return PA_EXCHANGE_OK;
}

pa_exchange_status pa_bn_client_symbols(pa_bn_transport *t, const pa_bn_markets *m)
{
    for (size_t i = 0; i < t->p->nsymbols; i++) {
        const char *s = t->p->symbols[i];
        if (pa_bn_find_market(m, s) == NULL) {
            pa_exchange_detail(t->out, "binance: symbol %s is not listed in /api/v3/exchangeInfo",
                               s);
            return PA_EXCHANGE_BAD_RESPONSE;
        }
        pa_exchange_status st = bn_push_symbol(t, s);
        if (st != PA_EXCHANGE_OK)
            return st;
    }
    pa_exchange_sort_symbols(t->out);
    t->out->symbol_source = "client";
    return PA_EXCHANGE_OK;
}

/* Every listed market quoted in the result's currency, whatever its status:
 * a pair Binance has halted (BREAK) still has its past trades, and leaving it
 * out would let a loss there vanish from the record. */
pa_exchange_status pa_bn_all_symbols(pa_bn_transport *t, const pa_bn_markets *m)
{
    for (size_t i = 0; i < m->len; i++) {
        if (strcmp(m->v[i].quote, t->p->currency) != 0)
            continue;
        pa_exchange_status st = bn_push_symbol(t, m->v[i].symbol);
        if (st != PA_EXCHANGE_OK)
            return st;
    }
    pa_exchange_sort_symbols(t->out);
    t->out->symbol_source = "all";
    return PA_EXCHANGE_OK;
}
