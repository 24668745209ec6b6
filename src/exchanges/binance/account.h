/* Whose account, and what its key may do (docs/BINANCE.md, "Account and
 * key"): GET /sapi/v1/account/apiRestrictions (weight 1) before any other
 * signed call, so a key that can move money is refused before the account
 * is read at all; and the account's uid from GET /api/v3/account (weight
 * 20) when the payload needs it (account_id, account_uid). The decoders are
 * pure, tested on Binance's documented bodies (test_binance_wire.c). */
#ifndef PA_BINANCE_ACCOUNT_H
#define PA_BINANCE_ACCOUNT_H

#include "enclave_only.h"

#include <stddef.h>

#include <jansson.h>

#include "connector.h"
#include "merkle.h"
#include "transport.h"

/* apiRestrictions' body into k: every flag the payload names must be a JSON
 * boolean (enableReading, enableSpotAndMarginTrading, enableMargin,
 * enableFutures, enableWithdrawals, enableInternalTransfer,
 * permitsUniversalTransfer, ipRestrict); enableVanillaOptions and
 * enablePortfolioMarginTrading, when present, must be too. */
PA_MUST_USE int pa_bn_decode_api_restrictions(const json_t *doc, pa_key_permissions *k, char *why,
                                              size_t why_cap);

/* GET /api/v3/account's `uid` (a positive JSON integer) as decimal text. */
PA_MUST_USE int pa_bn_decode_uid(const json_t *doc, char *out, size_t cap, char *why,
                                 size_t why_cap);

/* t->out->key_permissions; PA_EXCHANGE_KEY_NOT_READ_ONLY (detail names the
 * rights) when t->p->require_read_only and the key can move money. */
pa_exchange_status pa_bn_check_key(pa_bn_transport *t);

/* t->out->account_uid. */
pa_exchange_status pa_bn_fetch_uid(pa_bn_transport *t);

#endif
