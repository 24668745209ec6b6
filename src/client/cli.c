/* perfagg: the trader's and the verifier's command line (docs/CLIENT.md).
 *
 * Exit codes: 0 success, 1 a check failed or the server/network failed,
 * 2 the command line was wrong. Every decision about trust is made by
 * libperfagg_client; this file parses arguments and prints reports. Every
 * string that came from a server or a bundle is printed through esc()
 * (pa_client_escape): signed is not the same as harmless to a terminal. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "account_id.h"
#include "codec.h"
#include "exchange_hosts.h"
#include "perfagg_client.h"
#include "timeutil.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

enum {
    O_URL = 256,
    O_HELP,
    O_IMAGE_HASH,
    O_DEV_ROOT,
    O_EXCHANGE,
    O_LABEL,
    O_TTL,
    O_NOT_AFTER,
    O_KEY_FILE,
    O_SECRET_FILE,
    O_PASS_FILE,
    O_SYMBOLS,
    O_ACCOUNT_TYPE,
    O_ENCLAVE_PUBKEY,
    O_FROM,
    O_TO,
    O_CHALLENGE,
    O_OUT,
    O_PCR0,
    O_PCR1,
    O_PCR2,
    O_PCR3,
    O_PCR4,
    O_PCR8,
    O_MAX_AGE,
    O_DOCUMENT,
    O_ROOT,
    O_AT,
    O_NONCE,
    O_SIGNING_PUBKEY,
    O_ALLOW_DEBUG,
    O_NOT_BEFORE,
    O_ACCOUNT_SALT,
    O_NO_ACCOUNT_SALT,
    O_DISCLOSE_UID,
    O_UID,
    O_END
};
#define NOPTS (O_END - O_URL)
#define OPT_BIT(o) ((uint64_t)1 << ((o) - O_URL))
/* The PCR options and the index each checks. */
static const struct {
    int opt;
    unsigned index;
} pcr_opts[] = {{O_PCR0, 0}, {O_PCR1, 1}, {O_PCR2, 2}, {O_PCR3, 3}, {O_PCR4, 4}, {O_PCR8, 8}};
#define PCR_OPTS                                                                            \
    (OPT_BIT(O_PCR0) | OPT_BIT(O_PCR1) | OPT_BIT(O_PCR2) | OPT_BIT(O_PCR3) | OPT_BIT(O_PCR4) | \
     OPT_BIT(O_PCR8))
/* Only an offline document check (attest --document) takes these. */
#define DOCUMENT_OPTS                                                                       \
    (OPT_BIT(O_DOCUMENT) | OPT_BIT(O_ROOT) | OPT_BIT(O_AT) | OPT_BIT(O_NONCE) |               \
     OPT_BIT(O_SIGNING_PUBKEY) | OPT_BIT(O_ALLOW_DEBUG))

static const struct option all_options[NOPTS] = {
    {"url", required_argument, NULL, O_URL},
    {"help", no_argument, NULL, O_HELP},
    {"image-hash", required_argument, NULL, O_IMAGE_HASH},
    {"dev-root", required_argument, NULL, O_DEV_ROOT},
    {"exchange", required_argument, NULL, O_EXCHANGE},
    {"label", required_argument, NULL, O_LABEL},
    {"ttl", required_argument, NULL, O_TTL},
    {"not-after", required_argument, NULL, O_NOT_AFTER},
    {"api-key-file", required_argument, NULL, O_KEY_FILE},
    {"api-secret-file", required_argument, NULL, O_SECRET_FILE},
    {"passphrase-file", required_argument, NULL, O_PASS_FILE},
    {"symbols", required_argument, NULL, O_SYMBOLS},
    {"account-type", required_argument, NULL, O_ACCOUNT_TYPE},
    {"enclave-pubkey", required_argument, NULL, O_ENCLAVE_PUBKEY},
    {"from", required_argument, NULL, O_FROM},
    {"to", required_argument, NULL, O_TO},
    {"challenge", required_argument, NULL, O_CHALLENGE},
    {"out", required_argument, NULL, O_OUT},
    {"pcr0", required_argument, NULL, O_PCR0},
    {"pcr1", required_argument, NULL, O_PCR1},
    {"pcr2", required_argument, NULL, O_PCR2},
    {"pcr3", required_argument, NULL, O_PCR3},
    {"pcr4", required_argument, NULL, O_PCR4},
    {"pcr8", required_argument, NULL, O_PCR8},
    {"max-age", required_argument, NULL, O_MAX_AGE},
    {"document", required_argument, NULL, O_DOCUMENT},
    {"root", required_argument, NULL, O_ROOT},
    {"at", required_argument, NULL, O_AT},
    {"nonce", required_argument, NULL, O_NONCE},
    {"signing-pubkey", required_argument, NULL, O_SIGNING_PUBKEY},
    {"allow-debug", no_argument, NULL, O_ALLOW_DEBUG},
    {"not-before", required_argument, NULL, O_NOT_BEFORE},
    {"account-salt", required_argument, NULL, O_ACCOUNT_SALT},
    {"no-account-salt", no_argument, NULL, O_NO_ACCOUNT_SALT},
    {"disclose-uid", no_argument, NULL, O_DISCLOSE_UID},
    {"uid", required_argument, NULL, O_UID},
};

typedef struct {
    const char *value[NOPTS]; /* by option id - O_URL */
    int help;
    const char *positional[2];
    int npositional;
    const char *url; /* resolved: --url, $PERFAGG_URL, default */
} cli_args;

#define ARG(a, o) ((a)->value[(o) - O_URL])

/* 1 when any option of mask was given. */
static int any_given(const cli_args *a, uint64_t mask)
{
    for (int o = O_URL; o < O_END; o++)
        if ((mask & OPT_BIT(o)) && ARG(a, o) != NULL)
            return 1;
    return 0;
}

typedef struct {
    const char *name;
    int (*run)(const cli_args *a, const char *cmd);
    uint64_t options; /* OPT_BIT mask beyond --url and --help */
    int positionals;  /* exactly this many */
    const char *usage;
} command;

/* ---- usage ---------------------------------------------------------------------- */

#define SUBMIT_OPTS                                                                          \
    "  --exchange binance       the exchange (required)\n"                                   \
    "  --label LABEL            your name for this key, 1..64 characters (required)\n"       \
    "  --ttl SECONDS            session lifetime (server default 86400)\n"                   \
    "  --not-after RFC3339      the enclave refuses the envelope after this time\n"          \
    "  --api-key-file F         file holding the API key, or - for stdin (required)\n"       \
    "  --api-secret-file F      file holding the API secret, or - for stdin (required)\n"    \
    "  --passphrase-file F      file holding the passphrase, or - for stdin\n"               \
    "  --symbols A,B            only these symbols (labelled \"client\" in the result;\n"    \
    "                           default: every market quoted in USDT, \"all\")\n"            \
    "  --account-type T         spot (default) or usdm (Binance USD-M futures)\n"           \
    "  --account-salt B64       the accountSalt (32 bytes, base64) behind payload.account_id;\n" \
    "                           default: 32 fresh random bytes, printed on stderr. Give the\n" \
    "                           same salt again for the same account_id across sessions\n"   \
    "  --no-account-salt        no salt: payload.account_id is null\n"                      \
    "  --disclose-uid           put the exchange's account uid itself in the payload\n"     \
    "  --image-hash HEX         the enclave image you trust (hex PCR0; else\n"               \
    "                           $PERFAGG_IMAGE_HASH); required unless --dev-root\n"          \
    "  --pcr1/2/3/4/8 HEX       further PCRs the document must carry (96 hex digits)\n"      \
    "  --max-age SECONDS        refuse a document made further than this from now\n"        \
    "                           (else $PERFAGG_ATTEST_MAX_AGE, default 300)\n"               \
    "  --dev-root FILE          trust this DEVELOPMENT root instead of the AWS Nitro root\n" \
    "Fields given as - are read from stdin, one per line, in the order key, secret,\n"       \
    "passphrase. Secrets are never accepted on the command line. metadata.not_after\n"      \
    "is now + ttl unless --not-after is given: the enclave itself refuses the\n"            \
    "envelope after that time.\n"

static const char general_usage[] =
    "usage: perfagg [--url URL] COMMAND [ARGS]\n"
    "\n"
    "  attest       check the enclave's attestation\n"
    "  submit       seal read-only exchange API keys to the attested enclave\n"
    "  seal         like submit, but print the sealed body instead of sending it\n"
    "  aggregates   get signed performance aggregates and save a result bundle\n"
    "  verify       check a result bundle offline\n"
    "  revoke       delete a session's credentials and results\n"
    "  account-id   recompute a payload's account_id from the salt and the uid\n"
    "  help [CMD]   this text, or a command's options\n"
    "\n"
    "--url (or PERFAGG_URL) is the server, default " PA_CLIENT_DEFAULT_URL ".\n"
    "With the AWS Nitro root, attest, submit, seal and verify need the enclave image\n"
    "you trust: --image-hash HEX (or PERFAGG_IMAGE_HASH), 96 hex digits of PCR0.\n"
    "Exit status: 0 ok, 1 a check failed or the server/network failed, 2 usage error.\n";

/* ---- printing ------------------------------------------------------------------- */

/* Escaped copies of foreign strings, freed together once printed. */
typedef struct {
    char *s[64]; /* print_summary escapes about 45 */
    size_t n;
} esc_pool;

static const char *esc(esc_pool *p, const char *s)
{
    if (s == NULL)
        return "";
    if (p->n >= PA_ARRAY_LEN(p->s))
        return "(?)"; /* a programming error here must not print raw text */
    char *e = pa_client_escape(s, strlen(s));
    if (e == NULL)
        return "(?)";
    p->s[p->n++] = e;
    return e;
}

static void esc_free(esc_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->s[i]);
    p->n = 0;
}

/* The code and message may be the server's. */
static void print_error(const pa_client_error *err)
{
    esc_pool p = {0};
    fprintf(stderr, "error: %s: %s\n", err->code[0] ? esc(&p, err->code) : "error",
            err->message[0] ? esc(&p, err->message) : "failed");
    esc_free(&p);
}

/* Details quote documents and bundles (module_id, result_id, ...). */
static void print_report(FILE *out, const pa_verify_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const pa_check *c = &r->checks[i];
        esc_pool p = {0};
        fprintf(out, "  %-7s %-24s %s\n", pa_check_status_str(c->status), c->name,
                esc(&p, c->detail));
        esc_free(&p);
    }
}

static void print_root(FILE *out, const char *dev_root, int development, const char *image_hash)
{
    if (development) {
        fprintf(out,
                "DEVELOPMENT: checked against the development root %s, not AWS Nitro "
                "hardware.\n",
                dev_root ? dev_root : "(given)");
        if (image_hash == NULL)
            fprintf(out, "image: not pinned (the development root is itself the local trust "
                         "anchor: whoever holds its key vouches for any image)\n");
    } else {
        fprintf(out, "root: AWS Nitro Enclaves Root G1 (pinned, SHA-256 %s)\n",
                PA_AWS_NITRO_ROOT_SHA256);
    }
}

static void print_b64(FILE *out, const char *label, const uint8_t *data, size_t len)
{
    char *b64 = pa_b64_encode(data, len);
    fprintf(out, "%-16s%s\n", label, b64 ? b64 : "?");
    free(b64);
}

/* Every line starts with mark ("" or "UNVERIFIED "). */
static void print_summary(FILE *out, const pa_client_summary *s, const char *mark)
{
    esc_pool p = {0};
    fprintf(out, "%sresult_id       %s\n", mark, esc(&p, s->result_id));
    fprintf(out, "%sexchange        %s (label %s)\n", mark, esc(&p, s->exchange),
            esc(&p, s->label));
    fprintf(out, "%swindow          %s .. %s\n", mark, esc(&p, s->from), esc(&p, s->to));
    const char *currency = esc(&p, s->currency);
    fprintf(out, "%spnl             %s %s\n", mark, esc(&p, s->pnl), currency);
    if (s->has_returns)
        fprintf(out, "%s                (realized %s, unrealized %s, fees %s, funding %s)\n", mark,
                esc(&p, s->realized_pnl), esc(&p, s->unrealized_pnl), esc(&p, s->fees),
                esc(&p, s->funding));
    if (s->has_returns && strcmp(s->returns_from, "null") != 0)
        fprintf(out, "%sreturn          %s (time-weighted, from %s)\n", mark, esc(&p, s->ret),
                esc(&p, s->returns_from));
    else if (s->has_returns)
        fprintf(out, "%sreturn          null (no equity history)\n", mark);
    fprintf(out, "%ssharpe          %s%s%s%s\n", mark, esc(&p, s->sharpe),
            s->has_returns ? " (on daily " : "", esc(&p, s->sharpe_basis),
            s->has_returns ? ")" : "");
    if (s->has_returns) {
        fprintf(out, "%ssortino         %s\n", mark, esc(&p, s->sortino));
        fprintf(out, "%svolatility      %s\n", mark, esc(&p, s->volatility));
        fprintf(out, "%smax_drawdown    %s", mark, esc(&p, s->max_drawdown));
        if (strcmp(s->max_drawdown_peak, "null") != 0)
            fprintf(out, " (%s %s, %s .. %s)", esc(&p, s->max_drawdown_amount), currency,
                    esc(&p, s->max_drawdown_peak), esc(&p, s->max_drawdown_trough));
        fprintf(out, "\n");
        fprintf(out, "%sround_trips     %s (win rate %s, profit factor %s)\n", mark,
                esc(&p, s->round_trips), esc(&p, s->win_rate), esc(&p, s->profit_factor));
        fprintf(out, "%sdaily           %zu days, %s active\n", mark, s->ndaily,
                esc(&p, s->active_days));
    }
    fprintf(out, "%svolume          %s %s\n", mark, esc(&p, s->volume), currency);
    fprintf(out, "%strades          %s (excluded %s, unpriced fees %s)\n", mark,
            esc(&p, s->trades), esc(&p, s->excluded_trades), esc(&p, s->unpriced_fees));
    fprintf(out, "%sunmatched_qty   %s\n", mark, esc(&p, s->unmatched_qty));
    fprintf(out, "%smerkle_root     %s\n", mark, esc(&p, s->merkle_root));
    fprintf(out, "%simage_hash      %s\n", mark, esc(&p, s->image_hash));
    fprintf(out, "%sissued_at       %s\n", mark, esc(&p, s->issued_at));
    fprintf(out, "%senvironment     %s\n", mark, esc(&p, s->environment));
    if (s->challenge[0])
        fprintf(out, "%schallenge       %s\n", mark, esc(&p, s->challenge));
    if (strcmp(s->symbol_source, "all") == 0)
        fprintf(out, "%ssymbols         %zu (all: every market quoted in %s)\n", mark, s->nsymbols,
                currency);
    else
        fprintf(out, "%ssymbols         %zu (%s: chosen by the trader, not a full scan)\n", mark,
                s->nsymbols, s->symbol_source[0] ? esc(&p, s->symbol_source) : "unknown");
    /* docs/PROTOCOL.md, "Whose account": only account_id ties the result to an account */
    if (s->account_id[0])
        fprintf(out, "%saccount_id      %s%s%s%s\n", mark, esc(&p, s->account_id),
                s->account_uid[0] ? " (uid " : "", esc(&p, s->account_uid),
                s->account_uid[0] ? ")" : "");
    else
        fprintf(out, "%saccount_id      none: nothing ties this result to an account (the label "
                     "is self-asserted)\n",
                mark);
    if (s->key_rights[0])
        fprintf(out, "%skey rights      %s\n", mark, esc(&p, s->key_rights));
    esc_free(&p);
}

/* A verifier must see a self-selected subset for what it is: the numbers
 * are right for the symbols named, and say nothing of the others. */
static void warn_scope(FILE *out, const pa_client_summary *s)
{
    if (strcmp(s->symbol_source, "all") != 0)
        fprintf(out,
                "warning: scope.symbol_source is not \"all\": the trader chose which %zu "
                "symbol(s) were scanned; trades in any other symbol are not in these "
                "numbers\n",
                s->nsymbols);
}

/* ---- shared steps --------------------------------------------------------------- */

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "perfagg %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'perfagg %s --help'.\n", cmd);
    return EXIT_USAGE;
}

static int time_ok(const char *s)
{
    int64_t t = 0;
    return pa_time_parse(s, &t) == 0;
}

static int image_hash_ok(const char *hex)
{
    uint8_t pcr[PA_PCR_LEN];
    return pa_hex_decode_exact(hex, pcr, sizeof pcr) == 0;
}

/* The image the user trusts: --image-hash (or its alias --pcr0), else
 * $PERFAGG_IMAGE_HASH. Under the AWS root (no --dev-root) one is required:
 * that root vouches for every genuine Nitro enclave, whatever image it runs.
 * *hash is NULL when none was given (development root only). */
static int resolve_image_hash(const cli_args *a, const char *cmd, const char **hash)
{
    const char *h = ARG(a, O_IMAGE_HASH), *source = "--image-hash";
    if (h != NULL && ARG(a, O_PCR0) != NULL)
        return usage_error(cmd, "%s", "--pcr0 is --image-hash: give one of them");
    if (h == NULL && (h = ARG(a, O_PCR0)) != NULL)
        source = "--pcr0";
    if (h == NULL && (h = getenv(PA_CLIENT_IMAGE_HASH_ENV)) != NULL && h[0] == '\0')
        h = NULL;
    if (ARG(a, O_IMAGE_HASH) == NULL && ARG(a, O_PCR0) == NULL)
        source = PA_CLIENT_IMAGE_HASH_ENV;
    if (h != NULL && !image_hash_ok(h))
        return usage_error(cmd, "%s must be 96 hex digits (the 48-byte PCR0)", source);
    if (h == NULL && ARG(a, O_DEV_ROOT) == NULL)
        return usage_error(cmd, "%s", PA_CLIENT_IMAGE_HASH_REQUIRED);
    *hash = h;
    return EXIT_OK;
}

/* --pcr1 .. --pcr8 (not --pcr0) into mask / pcrs. */
static int resolve_pcrs(const cli_args *a, const char *cmd, uint32_t *mask,
                        uint8_t pcrs[PA_ATTEST_PCR_COUNT][PA_PCR_LEN])
{
    *mask = 0;
    for (size_t i = 0; i < PA_ARRAY_LEN(pcr_opts); i++) {
        const char *v = ARG(a, pcr_opts[i].opt);
        if (v == NULL || pcr_opts[i].index == 0)
            continue;
        if (pa_hex_decode_exact(v, pcrs[pcr_opts[i].index], PA_PCR_LEN) != 0)
            return usage_error(cmd, "--pcr%u must be 96 hex digits (48 bytes)",
                               pcr_opts[i].index);
        *mask |= 1u << pcr_opts[i].index;
    }
    return EXIT_OK;
}

/* How far a document's timestamp may be from now (or --at): --max-age
 * SECONDS, else $PERFAGG_ATTEST_MAX_AGE, else PA_CLIENT_MAX_AGE_DEFAULT_S. */
static int resolve_max_age(const cli_args *a, const char *cmd, int64_t *ms)
{
    const char *v = ARG(a, O_MAX_AGE), *source = "--max-age";
    if (v == NULL && (v = getenv(PA_CLIENT_MAX_AGE_ENV)) != NULL && v[0] == '\0')
        v = NULL;
    if (ARG(a, O_MAX_AGE) == NULL)
        source = PA_CLIENT_MAX_AGE_ENV;
    *ms = (int64_t)PA_CLIENT_MAX_AGE_DEFAULT_S * 1000;
    if (v == NULL)
        return EXIT_OK;
    char *end = NULL;
    errno = 0;
    long long s = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || s <= 0 || s > PA_CLIENT_MAX_AGE_MAX_S)
        return usage_error(cmd, "%s must be a number of seconds from 1 to %d, not '%s'", source,
                           PA_CLIENT_MAX_AGE_MAX_S, v);
    *ms = (int64_t)s * 1000;
    return EXIT_OK;
}

/* The expectations of a live check (attest, submit, seal) or of verify. */
static int resolve_expect(const cli_args *a, const char *cmd, pa_client_expect *e)
{
    memset(e, 0, sizeof *e);
    int rc = resolve_image_hash(a, cmd, &e->image_hash);
    if (rc == EXIT_OK)
        rc = resolve_pcrs(a, cmd, &e->pcr_mask, e->pcrs);
    if (rc == EXIT_OK)
        rc = resolve_max_age(a, cmd, &e->max_age_ms);
    return rc;
}

static X509 *load_root(const char *dev_root)
{
    X509 *root = pa_client_load_root(dev_root);
    if (root == NULL) {
        if (dev_root)
            fprintf(stderr, "error: root: cannot load the development root %s (PEM)\n", dev_root);
        else
            fprintf(stderr, "error: root: the built-in AWS Nitro root does not match its pin\n");
    }
    return root;
}

/* Attests and prints the report to out. EXIT_OK only when every check passed.
 * expect: from resolve_expect. */
static int attest_step(const cli_args *a, const pa_client_expect *expect, FILE *out,
                       pa_client_attestation *att)
{
    const char *image_hash = expect->image_hash;
    const char *dev_root = ARG(a, O_DEV_ROOT);
    pa_client_error err;
    memset(&err, 0, sizeof err);
    X509 *root = load_root(dev_root);
    if (root == NULL)
        return EXIT_FAIL;
    int rc = pa_client_attest(a->url, root, expect, att, &err);
    X509_free(root);
    if (att->report.n == 0) {
        print_error(&err);
        return EXIT_FAIL;
    }
    fprintf(out, "attestation of %s\n", a->url);
    print_report(out, &att->report);
    print_root(out, dev_root, att->report.development, image_hash);
    if (rc != 0)
        fprintf(out, "keys the server claims (NOT verified):\n");
    print_b64(out, "enclave_pubkey", att->enclave_pubkey, 32);
    print_b64(out, "signing_pubkey", att->signing_pubkey, 32);
    if (att->image_hash[0])
        fprintf(out, "%-16s%s\n", "image_hash", att->image_hash);
    if (rc != 0) {
        fprintf(out, "attestation FAILED: nothing may be sealed to this enclave\n");
        return EXIT_FAIL;
    }
    fprintf(out, "attestation verified%s\n", att->report.development ? " (DEVELOPMENT)" : "");
    return EXIT_OK;
}

/* ---- commands ------------------------------------------------------------------- */

static void print_field(FILE *out, const char *label, int has, const uint8_t *data, size_t len)
{
    if (!has) {
        fprintf(out, "%-16snull\n", label);
        return;
    }
    char *b = pa_b64_encode(data, len);
    fprintf(out, "%-16s%s (%zu bytes, base64)\n", label, b ? b : "?", len);
    free(b);
}

/* The fields of a verified document; module_id is the signer's text. */
static void print_claims(FILE *out, const pa_attest_claims *c)
{
    esc_pool p = {0};
    char t[PA_TIME_STR_LEN], nb[PA_TIME_STR_LEN], na[PA_TIME_STR_LEN];
    char hex[2 * PA_PCR_LEN + 1];
    pa_time_format(c->timestamp_ms, t);
    pa_time_format(c->leaf_not_before_ms, nb);
    pa_time_format(c->leaf_not_after_ms, na);
    fprintf(out, "%-16s%s\n", "module_id", esc(&p, c->module_id));
    fprintf(out, "%-16s%s\n", "timestamp", t);
    fprintf(out, "%-16sSHA384\n", "digest");
    fprintf(out, "%-16s%s .. %s\n", "leaf valid", nb, na);
    fprintf(out, "%-16s%d certificates (root first)\n", "cabundle", c->cabundle_len);
    for (unsigned i = 0; i < PA_ATTEST_PCR_COUNT; i++) {
        if (!(c->pcr_present & (1u << i)))
            continue;
        char label[16];
        snprintf(label, sizeof label, "PCR%u", i);
        pa_hex_encode(c->pcrs[i], PA_PCR_LEN, hex);
        fprintf(out, "%-16s%s\n", label, hex);
    }
    fprintf(out, "%-16s%s\n", "debug_mode", c->debug_mode ? "YES (PCR0-2 zero)" : "no");
    print_field(out, "public_key", c->has_public_key, c->public_key, c->public_key_len);
    print_field(out, "user_data", c->has_user_data, c->user_data, c->user_data_len);
    print_field(out, "nonce", c->has_nonce, c->nonce, c->nonce_len);
    esc_free(&p);
}

/* perfagg attest --document FILE: an auditor's offline check. */
static int cmd_attest_document(const cli_args *a, const char *cmd)
{
    const char *path = ARG(a, O_DOCUMENT), *root_path = ARG(a, O_ROOT), *at = ARG(a, O_AT);
    const char *nonce_b64 = ARG(a, O_NONCE), *epk = ARG(a, O_ENCLAVE_PUBKEY);
    const char *spk = ARG(a, O_SIGNING_PUBKEY);
    static pa_client_document_expect e;
    static pa_attest_claims claims;
    uint8_t *nonce = NULL;
    size_t nonce_len = 0;
    memset(&e, 0, sizeof e);

    if (ARG(a, O_DEV_ROOT) != NULL)
        return usage_error(cmd, "%s", "with --document, name the root with --root FILE");
    if (ARG(a, O_IMAGE_HASH) != NULL && ARG(a, O_PCR0) != NULL)
        return usage_error(cmd, "%s", "--pcr0 is --image-hash: give one of them");
    const char *pcr0 = ARG(a, O_PCR0) ? ARG(a, O_PCR0) : ARG(a, O_IMAGE_HASH);
    if (pcr0 != NULL) {
        if (pa_hex_decode_exact(pcr0, e.pcrs[0], PA_PCR_LEN) != 0)
            return usage_error(cmd, "%s", "--pcr0 must be 96 hex digits (48 bytes)");
        e.pcr_mask |= 1u;
    }
    uint32_t more = 0;
    int rc = resolve_pcrs(a, cmd, &more, e.pcrs);
    if (rc != EXIT_OK)
        return rc;
    e.pcr_mask |= more;
    if ((rc = resolve_max_age(a, cmd, &e.max_age_ms)) != EXIT_OK)
        return rc;
    if (at != NULL && pa_time_parse(at, &e.at_ms) != 0)
        return usage_error(cmd, "--at must be an RFC 3339 time, not '%s'", at);
    if (at != NULL && e.at_ms <= 0)
        return usage_error(cmd, "%s", "--at must be after 1970");
    if ((epk == NULL) != (spk == NULL))
        return usage_error(cmd, "%s", "--enclave-pubkey and --signing-pubkey go together");
    if (epk != NULL && (pa_b64_decode_exact(epk, e.enclave_pubkey, 32) != 0 ||
                        pa_b64_decode_exact(spk, e.signing_pubkey, 32) != 0))
        return usage_error(cmd, "%s",
                           "--enclave-pubkey and --signing-pubkey must be 32 bytes of base64");
    e.check_keys = epk != NULL;
    if (nonce_b64 != NULL &&
        (pa_b64_decode(nonce_b64, strlen(nonce_b64), &nonce, &nonce_len) != 0 ||
         nonce_len == 0 || nonce_len > PA_ATTEST_FIELD_MAX)) {
        free(nonce);
        return usage_error(cmd, "%s", "--nonce must be 1..1024 bytes of base64");
    }
    e.nonce = nonce;
    e.nonce_len = nonce_len;
    e.allow_debug = ARG(a, O_ALLOW_DEBUG) != NULL;

    pa_client_error err;
    memset(&err, 0, sizeof err);
    pa_buf doc;
    pa_buf_init(&doc, PA_ATTEST_DOC_MAX + 1);
    X509 *root = NULL;
    rc = EXIT_FAIL;
    if (pa_client_read_document(path, &doc, &err) != 0) {
        print_error(&err);
        goto cleanup;
    }
    root = root_path ? pa_attest_load_root(root_path, NULL) : pa_attest_aws_root();
    if (root == NULL) {
        if (root_path)
            fprintf(stderr, "error: root: cannot load %s (PEM)\n", root_path);
        else
            fprintf(stderr, "error: root: the built-in AWS Nitro root does not match its pin\n");
        goto cleanup;
    }
    if (e.at_ms == 0)
        e.at_ms = pa_now_ms();
    pa_verify_report r;
    int verdict = pa_client_check_document(doc.data, doc.len, root, &e, &claims, &r);
    char when[PA_TIME_STR_LEN];
    pa_time_format(e.at_ms, when);
    printf("attestation document %s (%zu bytes), as of %s%s\n", path, doc.len, when,
           at ? " (--at)" : " (now)");
    print_report(stdout, &r);
    if (r.development)
        printf("root: %s (NOT the AWS Nitro root)\n", root_path);
    else
        printf("root: AWS Nitro Enclaves Root G1 (pinned, SHA-256 %s)\n",
               PA_AWS_NITRO_ROOT_SHA256);
    if (nonce == NULL)
        printf("not checked: nonce (no --nonce)\n");
    if (!e.check_keys)
        printf("not checked: key binding (no --enclave-pubkey/--signing-pubkey)\n");
    if (!(e.pcr_mask & 1u))
        printf("not checked: PCR0 (no --pcr0): compare it with the image you trust\n");
    if (verdict != 0) {
        size_t failed = 0;
        for (size_t i = 0; i < r.n; i++)
            failed += r.checks[i].status == PA_CHECK_FAILED;
        printf("attestation document NOT valid: %zu check(s) failed\n", failed);
        goto cleanup;
    }
    printf("verified fields:\n");
    print_claims(stdout, &claims);
    printf("attestation document valid as of %s. That is all it proves: Nitro attestation has "
           "no revocation, so nothing here says the enclave or its certificates are still "
           "trustworthy at any other time.\n",
           when);
    rc = EXIT_OK;
cleanup:
    X509_free(root);
    pa_buf_free(&doc);
    free(nonce);
    return rc;
}

static int cmd_attest(const cli_args *a, const char *cmd)
{
    if (ARG(a, O_DOCUMENT) != NULL)
        return cmd_attest_document(a, cmd);
    if (any_given(a, DOCUMENT_OPTS | OPT_BIT(O_ENCLAVE_PUBKEY)))
        return usage_error(cmd, "%s",
                           "--root, --at, --nonce, --enclave-pubkey, --signing-pubkey and "
                           "--allow-debug need --document (an offline check)");
    pa_client_expect expect;
    int rc = resolve_expect(a, cmd, &expect);
    if (rc != EXIT_OK)
        return rc;
    pa_client_attestation att;
    return attest_step(a, &expect, stdout, &att);
}

/* submit and seal: validate, attest (unless seal --enclave-pubkey), read the
 * secrets, seal. *body_out receives the submit body. */
static int seal_step(const cli_args *a, const char *cmd, char **body_out)
{
    const char *exchange = ARG(a, O_EXCHANGE), *label = ARG(a, O_LABEL);
    const char *ttl_s = ARG(a, O_TTL), *not_after = ARG(a, O_NOT_AFTER);
    const char *key_file = ARG(a, O_KEY_FILE), *secret_file = ARG(a, O_SECRET_FILE);
    const char *pass_file = ARG(a, O_PASS_FILE), *pubkey_b64 = ARG(a, O_ENCLAVE_PUBKEY);
    int64_t ttl = 0;
    uint8_t enclave_pub[32];
    char resolved_not_after[PA_CLIENT_NOT_AFTER_MAX];
    pa_client_error err;
    memset(&err, 0, sizeof err);

    if (exchange == NULL || label == NULL)
        return usage_error(cmd, "%s", "--exchange and --label are required");
    if (key_file == NULL || secret_file == NULL)
        return usage_error(cmd, "%s", "--api-key-file and --api-secret-file are required");
    /* Fail on a mistyped path now, not after a round trip to the enclave. */
    const char *files[] = {key_file, secret_file, pass_file};
    for (size_t i = 0; i < PA_ARRAY_LEN(files); i++)
        if (files[i] != NULL && strcmp(files[i], "-") != 0 && access(files[i], R_OK) != 0)
            return usage_error(cmd, "cannot read %s: %s", files[i], strerror(errno));
    if (ttl_s != NULL) {
        char *end = NULL;
        long long v = strtoll(ttl_s, &end, 10);
        if (end == ttl_s || *end != '\0' || v <= 0 || v > INT32_MAX)
            return usage_error(cmd, "--ttl must be a positive number of seconds, not '%s'", ttl_s);
        ttl = v;
    }
    if (not_after != NULL && !time_ok(not_after))
        return usage_error(cmd, "--not-after must be an RFC 3339 time, not '%s'", not_after);
    /* Resolved now, so that a past --not-after fails before any round trip;
     * pa_client_seal resolves the given value again, to the same text. */
    if (pa_client_resolve_not_after(pa_now_ms(), ttl, not_after, resolved_not_after, &err) != 0)
        return usage_error(cmd, "--not-after: %s", err.message);
    if (pubkey_b64 != NULL) {
        /* $PERFAGG_IMAGE_HASH is not consulted: nothing is attested. */
        if (ARG(a, O_IMAGE_HASH) != NULL || ARG(a, O_DEV_ROOT) != NULL ||
            any_given(a, PCR_OPTS | OPT_BIT(O_MAX_AGE)))
            return usage_error(cmd, "%s",
                               "--enclave-pubkey skips attestation: it cannot be combined "
                               "with --image-hash, --pcrN, --max-age or --dev-root");
        if (pa_b64_decode_exact(pubkey_b64, enclave_pub, sizeof enclave_pub) != 0)
            return usage_error(cmd, "%s", "--enclave-pubkey must be 32 bytes of base64");
    } else {
        pa_client_expect expect;
        int rc = resolve_expect(a, cmd, &expect);
        if (rc != EXIT_OK)
            return rc;
        pa_client_attestation att;
        /* stdout may be the caller's capture of the session id or body. */
        rc = attest_step(a, &expect, stderr, &att);
        if (rc != EXIT_OK)
            return rc;
        memcpy(enclave_pub, att.enclave_pubkey, sizeof enclave_pub);
    }

    /* accountSalt: given (the same account_id as before) or fresh. */
    uint8_t salt[PA_CLIENT_ACCOUNT_SALT_LEN];
    if (ARG(a, O_ACCOUNT_SALT) != NULL && ARG(a, O_NO_ACCOUNT_SALT) != NULL)
        return usage_error(cmd, "%s", "--account-salt and --no-account-salt exclude each other");
    if (ARG(a, O_ACCOUNT_SALT) != NULL) {
        if (pa_b64_decode_exact(ARG(a, O_ACCOUNT_SALT), salt, sizeof salt) != 0)
            return usage_error(cmd, "%s", "--account-salt must be 32 bytes of base64");
    } else if (RAND_bytes(salt, sizeof salt) != 1) {
        fprintf(stderr, "perfagg %s: no randomness for the account salt\n", cmd);
        return EXIT_FAIL;
    }

    /* Plaintext credentials are about to exist in this process. */
    struct rlimit no_core = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &no_core);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    pa_buf key, secret, pass;
    pa_buf_init(&key, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&secret, PA_CLIENT_SECRET_MAX);
    pa_buf_init(&pass, PA_CLIENT_SECRET_MAX);
    int rc = EXIT_FAIL;
    if (pa_client_read_secrets(key_file, secret_file, pass_file, &key, &secret,
                               pass_file ? &pass : NULL, &err) != 0)
        goto cleanup;
    pa_client_submission in = {
        .account_salt = ARG(a, O_NO_ACCOUNT_SALT) != NULL ? NULL : salt,
        .disclose_uid = ARG(a, O_DISCLOSE_UID) != NULL,
        .exchange = exchange,
        .label = label,
        .ttl = ttl,
        .not_after = resolved_not_after,
        .api_key = &key,
        .api_secret = &secret,
        .passphrase = pass_file ? &pass : NULL,
        .symbols = ARG(a, O_SYMBOLS),
        .account_type = ARG(a, O_ACCOUNT_TYPE),
    };
    int sealed = pa_client_seal(enclave_pub, &in, body_out, &err);
    pa_buf_free(&key);
    pa_buf_free(&secret);
    pa_buf_free(&pass);
    if (sealed != 0)
        goto cleanup;
    fprintf(stderr,
            "sealed: the enclave will refuse this envelope after %s by its own clock "
            "(metadata.not_after, %s)\n",
            resolved_not_after, not_after != NULL ? "--not-after" : "now + ttl");
    if (in.account_salt != NULL) {
        char *salt_b64 = pa_b64_encode(salt, sizeof salt);
        if (salt_b64 == NULL)
            goto cleanup;
        /* stderr: stdout may be the caller's capture of the session id or body */
        fprintf(stderr,
                "account salt (keep it; give it only to a verifier you want to prove this "
                "account is yours — with it, payload.account_id names the account):\n"
                "account_salt=%s\n",
                salt_b64);
        OPENSSL_cleanse(salt_b64, strlen(salt_b64));
        free(salt_b64);
    }
    rc = EXIT_OK;
cleanup:
    OPENSSL_cleanse(salt, sizeof salt);
    pa_buf_free(&key);
    pa_buf_free(&secret);
    pa_buf_free(&pass);
    if (rc != EXIT_OK) {
        print_error(&err);
        if (strcmp(err.code, "invalid_input") == 0)
            rc = EXIT_USAGE;
    }
    return rc;
}

static int cmd_submit(const cli_args *a, const char *cmd)
{
    char *body = NULL;
    int rc = seal_step(a, cmd, &body);
    if (rc != EXIT_OK)
        return rc;
    pa_client_session s;
    pa_client_error err;
    memset(&err, 0, sizeof err);
    if (pa_client_submit(a->url, body, &s, &err) != 0) {
        print_error(&err);
        free(body);
        return EXIT_FAIL;
    }
    free(body);
    esc_pool p = {0};
    fprintf(stderr, "submitted: the enclave opened the envelope; session expires at %s\n",
            esc(&p, s.expires_at));
    esc_free(&p);
    fprintf(stderr, "session id (keep it private: it is the capability to your results):\n");
    printf("%s\n", s.session_id);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_seal(const cli_args *a, const char *cmd)
{
    char *body = NULL;
    int rc = seal_step(a, cmd, &body);
    if (rc != EXIT_OK)
        return rc;
    printf("%s\n", body);
    free(body);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_aggregates(const cli_args *a, const char *cmd)
{
    const char *session = a->positional[0], *out_path = ARG(a, O_OUT);
    const char *from = ARG(a, O_FROM), *to = ARG(a, O_TO), *challenge = ARG(a, O_CHALLENGE);
    int64_t t = 0;
    if (!pa_uuid_valid(session))
        return usage_error(cmd, "%s", "SESSION must be the session id (a UUID) from submit");
    if (out_path == NULL)
        return usage_error(cmd, "%s", "--out FILE is required");
    if (from != NULL && pa_time_parse(from, &t) != 0)
        return usage_error(cmd, "--from must be an RFC 3339 time, not '%s'", from);
    if (to != NULL && pa_time_parse(to, &t) != 0)
        return usage_error(cmd, "--to must be an RFC 3339 time, not '%s'", to);

    pa_client_error err;
    memset(&err, 0, sizeof err);
    pa_buf bundle;
    pa_buf_init(&bundle, PA_CLIENT_BUNDLE_MAX);
    pa_client_summary s;
    int rc = EXIT_FAIL;
    if (pa_client_fetch_bundle(a->url, session, from, to, challenge, &bundle, &err) != 0 ||
        pa_client_write_file_atomic(out_path, bundle.data, bundle.len, &err) != 0) {
        print_error(&err);
        goto cleanup;
    }
    if (pa_client_bundle_summary((const char *)bundle.data, bundle.len, &s) == 0) {
        printf("what the server answered (not verified yet):\n");
        print_summary(stdout, &s, "");
    }
    printf("saved to %s (not verified yet: run perfagg verify %s)\n", out_path, out_path);
    rc = EXIT_OK;
cleanup:
    pa_buf_free(&bundle);
    return rc;
}

static int cmd_verify(const cli_args *a, const char *cmd)
{
    const char *path = a->positional[0], *dev_root = ARG(a, O_DEV_ROOT);
    const char *nb = ARG(a, O_NOT_BEFORE), *na = ARG(a, O_NOT_AFTER);
    pa_client_expect expect;
    memset(&expect, 0, sizeof expect);
    int rc = resolve_image_hash(a, cmd, &expect.image_hash);
    if (rc == EXIT_OK)
        rc = resolve_pcrs(a, cmd, &expect.pcr_mask, expect.pcrs);
    if (rc != EXIT_OK)
        return rc;
    if (nb != NULL && !time_ok(nb))
        return usage_error(cmd, "--not-before must be an RFC 3339 time, not '%s'", nb);
    if (na != NULL && !time_ok(na))
        return usage_error(cmd, "--not-after must be an RFC 3339 time, not '%s'", na);
    expect.challenge = ARG(a, O_CHALLENGE);
    expect.not_before = nb;
    expect.not_after = na;

    pa_client_error err;
    memset(&err, 0, sizeof err);
    pa_buf bundle;
    pa_buf_init(&bundle, PA_CLIENT_BUNDLE_MAX);
    rc = EXIT_FAIL;
    X509 *root = NULL;
    if (pa_client_read_file(path, PA_CLIENT_BUNDLE_MAX, &bundle, &err) != 0) {
        print_error(&err);
        goto cleanup;
    }
    root = load_root(dev_root);
    if (root == NULL)
        goto cleanup;

    pa_verify_report r;
    int verdict =
        pa_client_verify_bundle((const char *)bundle.data, bundle.len, root, &expect, &r);
    printf("bundle %s\n", path);
    print_report(stdout, &r);
    print_root(stdout, dev_root, r.development, expect.image_hash);
    pa_client_summary s;
    if (r.n > 1 && pa_client_bundle_summary((const char *)bundle.data, bundle.len, &s) == 0) {
        /* Shown for diagnosis only, and marked on every line, so that no
         * line of a failed bundle reads like a verified number. */
        if (verdict != 0)
            printf("UNVERIFIED claims (the bundle did not verify: none of these is "
                   "established):\n");
        print_summary(stdout, &s, verdict != 0 ? "UNVERIFIED " : "");
        warn_scope(stdout, &s);
    }
    if (verdict == 0) {
        esc_pool p = {0};
        if (r.development)
            printf("VERIFIED against a DEVELOPMENT root (payload environment: %s)\n",
                   esc(&p, r.environment));
        else if (strcmp(r.environment, "production") != 0)
            printf("VERIFIED (payload environment: %s)\n", esc(&p, r.environment));
        else
            printf("VERIFIED\n");
        esc_free(&p);
        rc = EXIT_OK;
    } else {
        size_t failed = 0;
        for (size_t i = 0; i < r.n; i++)
            failed += r.checks[i].status != PA_CHECK_OK;
        printf("NOT VERIFIED: %zu check(s) did not pass\n", failed);
    }
cleanup:
    X509_free(root);
    pa_buf_free(&bundle);
    return rc;
}

/* account_id = hex HMAC-SHA256(salt, exchange ":" uid): what a verifier the
 * trader gave the salt compares with payload.account_id. */
static int cmd_account_id(const cli_args *a, const char *cmd)
{
    const char *exchange = ARG(a, O_EXCHANGE) != NULL ? ARG(a, O_EXCHANGE) : "binance";
    const char *salt_b64 = ARG(a, O_ACCOUNT_SALT), *uid = ARG(a, O_UID);
    uint8_t salt[PA_ACCOUNT_ID_SALT_LEN];
    if (salt_b64 == NULL || uid == NULL)
        return usage_error(cmd, "%s", "--account-salt and --uid are required");
    if (pa_b64_decode_exact(salt_b64, salt, sizeof salt) != 0)
        return usage_error(cmd, "%s", "--account-salt must be 32 bytes of base64");
    size_t n = strlen(uid);
    if (n == 0 || n >= 64 || strspn(uid, "0123456789") != n)
        return usage_error(cmd, "%s", "--uid must be the exchange's numeric account uid");
    char id[PA_ACCOUNT_ID_HEX_LEN + 1];
    int rc = pa_account_id(salt, exchange, uid, id);
    OPENSSL_cleanse(salt, sizeof salt);
    if (rc != 0)
        return usage_error(cmd, "%s", "--exchange must be a name without ':'");
    printf("%s\n", id);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int cmd_revoke(const cli_args *a, const char *cmd)
{
    const char *session = a->positional[0];
    if (!pa_uuid_valid(session))
        return usage_error(cmd, "%s", "SESSION must be the session id (a UUID) from submit");
    char message[256];
    pa_client_error err;
    memset(&err, 0, sizeof err);
    if (pa_client_revoke(a->url, session, message, sizeof message, &err) != 0) {
        print_error(&err);
        return EXIT_FAIL;
    }
    esc_pool p = {0};
    printf("%s\n", esc(&p, message));
    esc_free(&p);
    printf("Revoking here does not disable the key: delete the API key at the exchange too.\n");
    return EXIT_OK;
}

static const command commands[] = {
    {"attest", cmd_attest,
     OPT_BIT(O_IMAGE_HASH) | OPT_BIT(O_DEV_ROOT) | PCR_OPTS | OPT_BIT(O_MAX_AGE) | DOCUMENT_OPTS |
         OPT_BIT(O_ENCLAVE_PUBKEY),
     0,
     "usage: perfagg attest [--url URL] [--image-hash HEX] [--pcrN HEX]... [--max-age S]\n"
     "                      [--dev-root FILE]\n"
     "       perfagg attest --document FILE [--root ROOT.pem] [--at RFC3339] [--pcr0 HEX]...\n"
     "                      [--nonce B64] [--enclave-pubkey B64 --signing-pubkey B64]\n"
     "                      [--allow-debug] [--max-age S]\n"
     "Asks the enclave to attest a fresh random nonce and checks the document NOW: strict\n"
     "COSE, signature, certificate chain to the AWS Nitro root (or the --dev-root you name)\n"
     "valid now, a signing leaf, a timestamp within --max-age of now, not a debug enclave,\n"
     "nonce, public_key = enclave_pubkey, user_data binding the signing key, PCRs.\n"
     "  --image-hash HEX   the enclave image you trust (hex PCR0; also --pcr0; else\n"
     "                     $PERFAGG_IMAGE_HASH); required unless --dev-root\n"
     "  --pcr1/2/3/4/8 HEX further PCRs the document must carry (96 hex digits)\n"
     "  --max-age SECONDS  refuse a document made further than this from now (else\n"
     "                     $PERFAGG_ATTEST_MAX_AGE, default 300)\n"
     "  --dev-root FILE    trust this DEVELOPMENT root (PEM) instead of AWS's\n"
     "Offline (auditors): --document FILE (base64 or raw COSE bytes) is checked with no\n"
     "network against --root (default: the built-in AWS root) as of --at (default now):\n"
     "the chain must be valid then and the timestamp within --max-age of it. --nonce and\n"
     "the two keys are checked only when given; --allow-debug accepts debug enclaves.\n"
     "Exit 0 and the verified fields when valid; 1 and every failed check when not. A\n"
     "valid document proves validity as of that time only (Nitro has no revocation).\n"},
    {"submit", cmd_submit,
     OPT_BIT(O_EXCHANGE) | OPT_BIT(O_LABEL) | OPT_BIT(O_TTL) | OPT_BIT(O_NOT_AFTER) |
         OPT_BIT(O_KEY_FILE) | OPT_BIT(O_SECRET_FILE) | OPT_BIT(O_PASS_FILE) |
         OPT_BIT(O_SYMBOLS) | OPT_BIT(O_ACCOUNT_TYPE) | OPT_BIT(O_IMAGE_HASH) |
         OPT_BIT(O_DEV_ROOT) | PCR_OPTS | OPT_BIT(O_ACCOUNT_SALT) | OPT_BIT(O_NO_ACCOUNT_SALT) |
         OPT_BIT(O_DISCLOSE_UID) |
         OPT_BIT(O_MAX_AGE),
     0,
     "usage: perfagg submit --exchange binance --label LABEL --api-key-file F\n"
     "                      --api-secret-file F [OPTIONS]\n"
     "Attests the enclave, seals the credentials to its key and submits them.\n"
     "Prints the session id alone on stdout; details go to stderr.\n" SUBMIT_OPTS},
    {"seal", cmd_seal,
     OPT_BIT(O_EXCHANGE) | OPT_BIT(O_LABEL) | OPT_BIT(O_TTL) | OPT_BIT(O_NOT_AFTER) |
         OPT_BIT(O_KEY_FILE) | OPT_BIT(O_SECRET_FILE) | OPT_BIT(O_PASS_FILE) |
         OPT_BIT(O_SYMBOLS) | OPT_BIT(O_ACCOUNT_TYPE) | OPT_BIT(O_IMAGE_HASH) |
         OPT_BIT(O_DEV_ROOT) | PCR_OPTS | OPT_BIT(O_ACCOUNT_SALT) | OPT_BIT(O_NO_ACCOUNT_SALT) |
         OPT_BIT(O_DISCLOSE_UID) |
         OPT_BIT(O_MAX_AGE) | OPT_BIT(O_ENCLAVE_PUBKEY),
     0,
     "usage: perfagg seal --exchange binance --label LABEL --api-key-file F\n"
     "                    --api-secret-file F [--enclave-pubkey B64] [OPTIONS]\n"
     "Like submit, but prints the submit body JSON on stdout instead of sending it.\n"
     "  --enclave-pubkey B64     seal to this key without attesting (you vouch for it;\n"
     "                           no --image-hash or --dev-root then)\n"
     SUBMIT_OPTS},
    {"aggregates", cmd_aggregates,
     OPT_BIT(O_FROM) | OPT_BIT(O_TO) | OPT_BIT(O_CHALLENGE) | OPT_BIT(O_OUT), 1,
     "usage: perfagg aggregates SESSION [--from T] [--to T] [--challenge S] --out FILE\n"
     "Asks the enclave for signed aggregates over [from, to) (default: the last 30 days)\n"
     "and saves the result bundle {version, response, logs} to FILE.\n"
     "  --from T, --to T   RFC 3339 times\n"
     "  --challenge S      a verifier's string (<= 128 characters) copied into the payload\n"
     "  --out FILE         where to write the bundle (required)\n"},
    {"verify", cmd_verify,
     OPT_BIT(O_DEV_ROOT) | OPT_BIT(O_IMAGE_HASH) | PCR_OPTS | OPT_BIT(O_CHALLENGE) |
         OPT_BIT(O_NOT_BEFORE) | OPT_BIT(O_NOT_AFTER),
     1,
     "usage: perfagg verify FILE [--dev-root FILE] [--image-hash HEX] [--pcrN HEX]...\n"
     "                      [--challenge S] [--not-before T] [--not-after T]\n"
     "Checks a result bundle offline (no network) and prints every check. The\n"
     "attestation is checked as of payload.issued_at (its timestamp within 120 s of it).\n"
     "Under the AWS root the payload must say environment \"production\" and name the\n"
     "built-in exchange API (" PA_BINANCE_BASE_URL ").\n"
     "  --dev-root FILE    trust this DEVELOPMENT root (PEM) instead of AWS's\n"
     "  --image-hash HEX   the enclave image you trust (hex PCR0; also --pcr0; else\n"
     "                     $PERFAGG_IMAGE_HASH); required unless --dev-root\n"
     "  --pcr1/2/3/4/8 HEX further PCRs the attestation must carry\n"
     "  --challenge S      payload.challenge must be exactly S\n"
     "  --not-before T     payload.from must not be before T (RFC 3339)\n"
     "  --not-after T      payload.to must not be after T (RFC 3339)\n"},
    {"revoke", cmd_revoke, 0, 1,
     "usage: perfagg revoke [--url URL] SESSION\n"
     "Deletes the session's credentials, results and logs on the server.\n"
     "Then delete the API key at the exchange too.\n"},
    {"account-id", cmd_account_id, OPT_BIT(O_EXCHANGE) | OPT_BIT(O_ACCOUNT_SALT) | OPT_BIT(O_UID),
     0,
     "usage: perfagg account-id --account-salt B64 --uid UID [--exchange binance]\n"
     "Prints the account_id a result of that account carries: lowercase hex\n"
     "HMAC-SHA256(key = the salt, message = exchange \":\" uid). A trader proves a result\n"
     "is for their account by giving a verifier the salt; the verifier reads the uid\n"
     "(e.g. Binance's account page) and compares this with payload.account_id.\n"},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int opts_takes_value(const struct option *opts, size_t n, const char *name, size_t len)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
            return opts[k].has_arg == required_argument;
    return 0;
}

/* --url given before the command. */
static const char *global_url;

/* argv[0] is the command name. */
static int parse_args(const command *c, int argc, char **argv, cli_args *a)
{
    struct option opts[NOPTS + 1];
    size_t n = 0;
    uint64_t allowed = c->options | OPT_BIT(O_URL) | OPT_BIT(O_HELP);
    for (size_t i = 0; i < NOPTS; i++)
        if (allowed & OPT_BIT(all_options[i].val))
            opts[n++] = all_options[i];
    memset(&opts[n], 0, sizeof opts[n]);

    memset(a, 0, sizeof *a);
    /* getopt_long accepts any unambiguous prefix: "--api-secret X" would be
     * taken as --api-secret-file X. Only whole option names are accepted, so
     * a mistyped option is an error, never a different option. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        const char *name = argv[i] + 2;
        size_t len = strcspn(name, "=");
        int known = 0;
        for (size_t k = 0; k < n && !known; k++)
            known = strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0;
        if (!known)
            return usage_error(c->name, "unknown option: --%.*s", (int)len, name);
        if (opts_takes_value(opts, n, name, len) && name[len] != '=')
            i++; /* skip its value, which may itself start with "--" */
    }
    opterr = 0;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'h' || o == O_HELP) {
            a->help = 1;
            continue;
        }
        if (o < O_URL || o >= O_END) {
            const char *bad = argv[optind - 1];
            return usage_error(c->name, "unknown option or missing value: %s", bad);
        }
        if (ARG(a, o) != NULL)
            return usage_error(c->name, "%s given twice", all_options[o - O_URL].name);
        ARG(a, o) = all_options[o - O_URL].has_arg == no_argument ? "1" : optarg;
    }
    if (a->help)
        return EXIT_OK;
    for (int i = optind; i < argc; i++) {
        if (a->npositional >= c->positionals)
            return usage_error(c->name, "unexpected argument: %s", argv[i]);
        a->positional[a->npositional++] = argv[i];
    }
    if (a->npositional != c->positionals)
        return usage_error(c->name, "%s", "missing argument");
    a->url = ARG(a, O_URL);
    if (a->url == NULL)
        a->url = global_url;
    if (a->url == NULL)
        a->url = getenv("PERFAGG_URL");
    if (a->url == NULL || a->url[0] == '\0')
        a->url = PA_CLIENT_DEFAULT_URL;
    if (pa_client_check_base_url(a->url) != 0)
        return usage_error(c->name, "the server URL must be http(s)://host[:port], not '%s'",
                           a->url);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* The common flag may also come before the command. */
    int first = 1;
    if (argc > 1 && strncmp(argv[1], "--url=", 6) == 0) {
        global_url = argv[1] + 6;
        first = 2;
    } else if (argc > 2 && strcmp(argv[1], "--url") == 0) {
        global_url = argv[2];
        first = 3;
    }
    argc -= first - 1;
    argv += first - 1;
    if (argc < 2) {
        fputs(general_usage, stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        const command *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (argc > 2 && c == NULL) {
            fprintf(stderr, "perfagg: unknown command '%s'\n%s", argv[2], general_usage);
            return EXIT_USAGE;
        }
        fputs(c ? c->usage : general_usage, stdout);
        return EXIT_OK;
    }
    const command *c = find_command(name);
    if (c == NULL) {
        fprintf(stderr, "perfagg: unknown command '%s'\n%s", name, general_usage);
        return EXIT_USAGE;
    }
    cli_args a;
    int rc = parse_args(c, argc - 1, argv + 1, &a);
    if (rc != EXIT_OK)
        return rc;
    if (a.help) {
        fputs(c->usage, stdout);
        return EXIT_OK;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "error: internal_error: cannot initialise libcurl\n");
        return EXIT_FAIL;
    }
    rc = c->run(&a, c->name);
    curl_global_cleanup();
    return rc;
}
