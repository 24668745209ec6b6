/* Account and key (account.h). */
#include "account.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_strict.h"

static int flag(const json_t *doc, const char *name, int required, int *out)
{
    const json_t *v = json_object_get(doc, name);
    if (v == NULL && !required) {
        *out = 0;
        return 0;
    }
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

int pa_bn_decode_api_restrictions(const json_t *doc, pa_key_permissions *k, char *why,
                                  size_t why_cap)
{
    static const struct {
        const char *name;
        size_t off;
    } named[] = {
        {"enableReading", offsetof(pa_key_permissions, read)},
        {"enableSpotAndMarginTrading", offsetof(pa_key_permissions, spot_trade)},
        {"enableMargin", offsetof(pa_key_permissions, margin)},
        {"enableFutures", offsetof(pa_key_permissions, futures)},
        {"enableWithdrawals", offsetof(pa_key_permissions, withdraw)},
        {"enableInternalTransfer", offsetof(pa_key_permissions, internal_transfer)},
        {"permitsUniversalTransfer", offsetof(pa_key_permissions, universal_transfer)},
        {"ipRestrict", offsetof(pa_key_permissions, ip_restricted)},
    };
    memset(k, 0, sizeof *k);
    if (!json_is_object(doc)) {
        snprintf(why, why_cap, "apiRestrictions is not an object");
        return -1;
    }
    for (size_t i = 0; i < PA_ARRAY_LEN(named); i++) {
        if (flag(doc, named[i].name, 1, (int *)((char *)k + named[i].off)) != 0) {
            snprintf(why, why_cap, "apiRestrictions has no boolean %s", named[i].name);
            memset(k, 0, sizeof *k);
            return -1;
        }
    }
    /* Trading rights the payload does not name still make a key unfit. */
    int options = 0, portfolio = 0;
    if (flag(doc, "enableVanillaOptions", 0, &options) != 0 ||
        flag(doc, "enablePortfolioMarginTrading", 0, &portfolio) != 0) {
        snprintf(why, why_cap, "apiRestrictions has a non-boolean trading flag");
        memset(k, 0, sizeof *k);
        return -1;
    }
    k->other_trading = options || portfolio;
    k->known = 1;
    return 0;
}

int pa_bn_decode_uid(const json_t *doc, char *out, size_t cap, char *why, size_t why_cap)
{
    const json_t *v = json_object_get(doc, "uid");
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snprintf(why, why_cap, "/api/v3/account has no positive integer uid");
        return -1;
    }
    int n = snprintf(out, cap, "%" PRId64, (int64_t)json_integer_value(v));
    if (n < 0 || (size_t)n >= cap) {
        snprintf(why, why_cap, "/api/v3/account's uid is too long");
        return -1;
    }
    return 0;
}

/* "withdraw, spot_trade" — the rights that make the key unfit. */
static void moving_rights(const pa_key_permissions *k, char *out, size_t cap)
{
    static const struct {
        const char *name;
        size_t off;
    } rights[] = {
        {"withdraw", offsetof(pa_key_permissions, withdraw)},
        {"internal_transfer", offsetof(pa_key_permissions, internal_transfer)},
        {"universal_transfer", offsetof(pa_key_permissions, universal_transfer)},
        {"spot_trade", offsetof(pa_key_permissions, spot_trade)},
        {"margin", offsetof(pa_key_permissions, margin)},
        {"futures", offsetof(pa_key_permissions, futures)},
        {"options_or_portfolio_margin", offsetof(pa_key_permissions, other_trading)},
    };
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < PA_ARRAY_LEN(rights); i++) {
        if (*(const int *)((const char *)k + rights[i].off) && n < cap) {
            int w = snprintf(out + n, cap - n, "%s%s", n > 0 ? ", " : "", rights[i].name);
            n += w > 0 ? (size_t)w : 0;
        }
    }
}

pa_exchange_status pa_bn_check_key(pa_bn_transport *t)
{
    json_t *doc = NULL;
    pa_exchange_status st =
        pa_bn_get(t, "/sapi/v1/account/apiRestrictions", "", 1, PA_BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    char why[128];
    if (pa_bn_decode_api_restrictions(doc, &t->out->key_permissions, why, sizeof why) != 0) {
        pa_exchange_detail(t->out, "binance: %s", why);
        st = PA_EXCHANGE_BAD_RESPONSE;
    } else if (t->p->require_read_only && pa_key_permissions_move_money(&t->out->key_permissions)) {
        char rights[128];
        moving_rights(&t->out->key_permissions, rights, sizeof rights);
        pa_exchange_detail(t->out, "binance: the API key has these rights enabled: %s", rights);
        st = PA_EXCHANGE_KEY_NOT_READ_ONLY;
    }
    json_decref(doc);
    return st;
}

pa_exchange_status pa_bn_fetch_uid(pa_bn_transport *t)
{
    json_t *doc = NULL;
    /* omitZeroBalances: the uid is all this call is for */
    pa_exchange_status st =
        pa_bn_get(t, "/api/v3/account", "omitZeroBalances=true", 1, PA_BN_BODY_CAP, &doc);
    if (st != PA_EXCHANGE_OK)
        return st;
    char why[128];
    if (pa_bn_decode_uid(doc, t->out->account_uid, sizeof t->out->account_uid, why, sizeof why) !=
        0) {
        pa_exchange_detail(t->out, "binance: %s", why);
        t->out->account_uid[0] = '\0';
        st = PA_EXCHANGE_BAD_RESPONSE;
    }
    json_decref(doc);
    return st;
}
