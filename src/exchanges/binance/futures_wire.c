/* Binance USD-M futures answers decoded (futures_wire.h). Pure. */
#include "futures_wire.h"

#include <string.h>

#include "json_strict.h"

/* As wire.c: ids and times survive JCS exactly up to 2^53. */
#define BN_MAX_SAFE_INT ((int64_t)1 << 53)
#define BN_INCOME_TYPE_MAX 64

static int get_int(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > BN_MAX_SAFE_INT)
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int copy_asset(char *dst, size_t cap, const char *src)
{
    if (!pa_bn_asset_ok(src) || strlen(src) >= cap)
        return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

int pa_bn_decode_futures_trade(const json_t *row, const pa_bn_market *mk, pa_fill *f)
{
    PA_ENSURE(f != NULL);
    memset(f, 0, sizeof *f);
    PA_ENSURE(json_is_object(row) && mk != NULL);
    const char *sym = pa_json_str(row, "symbol");
    const json_t *buyer = json_object_get(row, "buyer");
    PA_ENSURE(sym == NULL || strcmp(sym, mk->symbol) == 0);
    PA_ENSURE(json_is_boolean(buyer));
    PA_GUARD(get_int(row, "id", &f->id));
    PA_GUARD(get_int(row, "time", &f->time_ms));
    PA_GUARD(pa_fill_set_amounts(f, pa_json_str(row, "price"), pa_json_str(row, "qty"),
                                 pa_json_str(row, "quoteQty"), pa_json_str(row, "commission")));
    PA_GUARD(copy_asset(f->commission_asset, sizeof f->commission_asset,
                        pa_json_str(row, "commissionAsset")));
    memcpy(f->symbol, mk->symbol, sizeof f->symbol);
    memcpy(f->base, mk->base, sizeof f->base);
    memcpy(f->quote, mk->quote, sizeof f->quote);
    f->is_buyer = json_is_true(buyer);
    return 0;
}

static int income_type(const char *s, pa_income_type *out)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > BN_INCOME_TYPE_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_'))
            return -1;
    *out = strcmp(s, "REALIZED_PNL") == 0  ? PA_INCOME_REALIZED_PNL
           : strcmp(s, "COMMISSION") == 0  ? PA_INCOME_COMMISSION
           : strcmp(s, "FUNDING_FEE") == 0 ? PA_INCOME_FUNDING_FEE
                                           : PA_INCOME_OTHER;
    return 0;
}

int pa_bn_decode_income(const json_t *row, pa_income *r)
{
    PA_ENSURE(r != NULL);
    memset(r, 0, sizeof *r);
    PA_ENSURE(json_is_object(row));
    const char *sym = pa_json_str(row, "symbol");
    PA_ENSURE(sym != NULL && (sym[0] == '\0' || pa_bn_symbol_ok(sym)));
    PA_ENSURE(strlen(sym) < sizeof r->symbol);
    memcpy(r->symbol, sym, strlen(sym) + 1);
    PA_GUARD(income_type(pa_json_str(row, "incomeType"), &r->type));
    PA_GUARD(pa_dec_parse_str(pa_json_str(row, "income"), PA_DEC_NEG, &r->amount));
    PA_GUARD(copy_asset(r->asset, sizeof r->asset, pa_json_str(row, "asset")));
    PA_GUARD(get_int(row, "time", &r->time_ms));
    PA_GUARD(get_int(row, "tranId", &r->tran_id));
    return 0;
}
