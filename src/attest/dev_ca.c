/* The development attestation CA: a P-384 root and intermediate kept on disk
 * (so a client can pin the root across restarts) and the certificates the
 * development platform issues with them. Production documents are signed by
 * AWS's Nitro PKI instead; nothing here is used to verify anything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "attest_internal.h"
#include "attest_produce.h"
#include "log.h"

#define ROOT_KEY "root.key"
#define ROOT_PEM "root.pem"
#define INTER_KEY "intermediate.key"
#define INTER_PEM "intermediate.pem"

#define DAY_S ((int64_t)24 * 3600)
#define ROOT_LIFETIME_S ((int64_t)3652 * DAY_S)  /* 10 years */
#define INTER_LIFETIME_S ((int64_t)1826 * DAY_S) /* 5 years */
/* An intermediate this close to expiry is re-issued at start-up so that
 * every leaf it signs stays inside its validity. */
#define INTER_RENEW_MARGIN_S ((int64_t)DAY_S)
#define BACKDATE_S 60 /* tolerate small clock differences with verifiers */
#define PEM_FILE_MAX ((off_t)16 * 1024)

#define DEV_ORG "perfagg development"

/* ---- keys and certificates --------------------------------------------------- */

EVP_PKEY *pa_devca_keygen(void)
{
    return EVP_EC_gen(SN_secp384r1);
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* 127 random bits: positive, almost surely unique, within RFC 5280's 20 octets. */
static int set_random_serial(X509 *cert)
{
    int rc = -1;
    BIGNUM *bn = BN_new();
    PA_ENSURE_GOTO(bn != NULL, cleanup);
    do {
        PA_ENSURE_GOTO(BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, cleanup);
    } while (BN_is_zero(bn));
    PA_ENSURE_GOTO(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL, cleanup);
    rc = 0;
cleanup:
    BN_free(bn);
    return rc;
}

static int set_name(X509_NAME *name, const char *cn)
{
    PA_ENSURE(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)DEV_ORG,
                                         -1, -1, 0) == 1);
    PA_ENSURE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                         -1, 0) == 1);
    return 0;
}

X509 *pa_devca_issue(EVP_PKEY *subject_key, const char *cn, pa_devca_kind kind, X509 *issuer,
                     EVP_PKEY *issuer_key, int64_t not_before, int64_t not_after)
{
    X509 *cert = NULL;
    const char *bc, *ku;

    if (subject_key == NULL || issuer_key == NULL || cn == NULL || not_after <= not_before)
        return NULL;
    if ((issuer == NULL) != (kind == PA_DEVCA_ROOT))
        return NULL;
    switch (kind) {
    case PA_DEVCA_ROOT: /* may sign one level of intermediates */
        bc = "critical,CA:TRUE,pathlen:1";
        ku = "critical,keyCertSign,cRLSign";
        break;
    case PA_DEVCA_INTERMEDIATE: /* may sign leaves only */
        bc = "critical,CA:TRUE,pathlen:0";
        ku = "critical,keyCertSign,cRLSign";
        break;
    case PA_DEVCA_LEAF:
        bc = "critical,CA:FALSE";
        ku = "critical,digitalSignature";
        break;
    default:
        return NULL;
    }

    cert = X509_new();
    PA_ENSURE_GOTO(cert != NULL, fail);
    PA_ENSURE_GOTO(X509_set_version(cert, X509_VERSION_3) == 1, fail);
    PA_GUARD_GOTO(set_random_serial(cert), fail);
    PA_ENSURE_GOTO(ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)not_before) != NULL, fail);
    PA_ENSURE_GOTO(ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)not_after) != NULL, fail);
    PA_GUARD_GOTO(set_name(X509_get_subject_name(cert), cn), fail);
    PA_ENSURE_GOTO(X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer)
                                                             : X509_get_subject_name(cert)) == 1,
                   fail);
    PA_ENSURE_GOTO(X509_set_pubkey(cert, subject_key) == 1, fail);

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
    PA_GUARD_GOTO(add_ext(cert, &ctx, NID_basic_constraints, bc), fail);
    PA_GUARD_GOTO(add_ext(cert, &ctx, NID_key_usage, ku), fail);
    PA_GUARD_GOTO(add_ext(cert, &ctx, NID_subject_key_identifier, "hash"), fail);
    /* a self-signed root needs no authority key id (RFC 5280 §4.2.1.1) */
    if (issuer != NULL)
        PA_GUARD_GOTO(add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always"), fail);

    PA_ENSURE_GOTO(X509_sign(cert, issuer_key, EVP_sha384()) > 0, fail);
    return cert;
fail:
    X509_free(cert);
    return NULL;
}

/* ---- files ------------------------------------------------------------------- */

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return -1;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return -1;
    return 0;
}

/* 1 present, 0 absent, -1 error. */
static int file_exists(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

/* Reads a small regular file (not through a symlink). With private_only, a
 * file that group or others may access is refused, as ssh refuses such keys. */
static int read_small_file(int dirfd, const char *name, int private_only, uint8_t **out,
                           size_t *out_len)
{
    int rc = -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        pa_log_error("attest: cannot open %s: %s", name, strerror(errno));
        return -1;
    }
    struct stat st;
    PA_ENSURE_GOTO(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), cleanup);
    if (st.st_size <= 0 || st.st_size > PEM_FILE_MAX) {
        pa_log_error("attest: %s has an unexpected size", name);
        goto cleanup;
    }
    if (private_only && (st.st_mode & 077) != 0) {
        pa_log_error("attest: %s is accessible by group or others; refusing it (chmod 600)", name);
        goto cleanup;
    }
    buf = malloc((size_t)st.st_size + 1);
    PA_ENSURE_GOTO(buf != NULL, cleanup);
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        PA_ENSURE_GOTO(r > 0, cleanup);
        len += (size_t)r;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = 0;
cleanup:
    if (buf != NULL)
        pa_free_secret(buf, (size_t)st.st_size + 1);
    close(fd);
    return rc;
}

/* Writes name atomically: a temporary file with the final mode, fsync'd,
 * then linked into place (replace = 0: fails if name exists, so two
 * processes racing on first start cannot clobber each other's root) or
 * renamed over it (replace = 1). */
static int write_file_atomic(int dirfd, const char *name, const void *data, size_t len,
                             mode_t mode, int replace)
{
    int rc = -1;
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    (void)unlinkat(dirfd, tmp, 0); /* a leftover from a crashed start */
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    PA_ENSURE_GOTO(fchmod(fd, mode) == 0, cleanup); /* whatever the umask */
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        PA_ENSURE_GOTO(w > 0, cleanup);
        done += (size_t)w;
    }
    PA_ENSURE_GOTO(fsync(fd) == 0, cleanup);
    if (replace)
        PA_ENSURE_GOTO(renameat(dirfd, tmp, dirfd, name) == 0, cleanup);
    else
        PA_ENSURE_GOTO(linkat(dirfd, tmp, dirfd, name, 0) == 0, cleanup);
    rc = 0;
cleanup:
    close(fd);
    (void)unlinkat(dirfd, tmp, 0); /* no-op after a successful rename */
    if (rc != 0)
        pa_log_error("attest: cannot write %s: %s", name, strerror(errno));
    return rc;
}

/* The key goes through a secure-heap BIO so the PEM text of the private key
 * is wiped when the BIO is freed. */
static int save_key(int dirfd, const char *name, EVP_PKEY *key, int replace)
{
    int rc = -1;
    BIO *bio = BIO_new(BIO_s_secmem());
    PA_ENSURE_GOTO(bio != NULL, cleanup);
    PA_ENSURE_GOTO(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1, cleanup);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    PA_ENSURE_GOTO(n > 0 && pem != NULL, cleanup);
    PA_GUARD_GOTO(write_file_atomic(dirfd, name, pem, (size_t)n, 0600, replace), cleanup);
    rc = 0;
cleanup:
    BIO_free(bio);
    return rc;
}

static int save_cert(int dirfd, const char *name, X509 *cert, int replace)
{
    int rc = -1;
    BIO *bio = BIO_new(BIO_s_mem());
    PA_ENSURE_GOTO(bio != NULL, cleanup);
    PA_ENSURE_GOTO(PEM_write_bio_X509(bio, cert) == 1, cleanup);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    PA_ENSURE_GOTO(n > 0 && pem != NULL, cleanup);
    PA_GUARD_GOTO(write_file_atomic(dirfd, name, pem, (size_t)n, 0644, replace), cleanup);
    rc = 0;
cleanup:
    BIO_free(bio);
    return rc;
}

static EVP_PKEY *load_key(int dirfd, const char *name)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    EVP_PKEY *key = NULL;
    if (read_small_file(dirfd, name, 1, &pem, &len) != 0)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL)
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    pa_free_secret(pem, len + 1);
    if (key != NULL && !pa_attest_key_is_p384(key)) {
        pa_log_error("attest: %s is not a P-384 key", name);
        EVP_PKEY_free(key);
        key = NULL;
    }
    return key;
}

static X509 *load_cert(int dirfd, const char *name)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    X509 *cert = NULL;
    if (read_small_file(dirfd, name, 0, &pem, &len) != 0)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio != NULL)
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    return cert;
}

/* 1 when cert's notAfter is later than t, else 0. */
static int valid_until(X509 *cert, int64_t t)
{
    time_t tt = (time_t)t;
    return X509_cmp_time(X509_get0_notAfter(cert), &tt) > 0;
}

/* ---- the CA on disk ---------------------------------------------------------- */

static int load_or_create_root(int dirfd, const char *dir, int64_t now, X509 **root,
                               EVP_PKEY **root_key)
{
    int has_key = file_exists(dirfd, ROOT_KEY);
    int has_pem = file_exists(dirfd, ROOT_PEM);
    if (has_key < 0 || has_pem < 0)
        return -1;
    if (has_key != has_pem) {
        pa_log_error("attest: %s holds only half of the development root (%s / %s); remove "
                     "the directory to start a new root",
                     dir, ROOT_KEY, ROOT_PEM);
        return -1;
    }
    if (has_key) {
        *root_key = load_key(dirfd, ROOT_KEY);
        *root = load_cert(dirfd, ROOT_PEM);
        if (*root_key == NULL || *root == NULL)
            return -1;
        if (X509_check_private_key(*root, *root_key) != 1 || X509_check_ca(*root) == 0 ||
            X509_verify(*root, *root_key) != 1) {
            pa_log_error("attest: %s/%s is not a self-signed CA for %s", dir, ROOT_PEM, ROOT_KEY);
            return -1;
        }
        if (!valid_until(*root, now + INTER_RENEW_MARGIN_S)) {
            pa_log_error("attest: the development root in %s has expired; remove the directory "
                         "to start a new root (clients must then pin the new one)",
                         dir);
            return -1;
        }
        return 0;
    }
    *root_key = pa_devca_keygen();
    PA_ENSURE(*root_key != NULL);
    *root = pa_devca_issue(*root_key, "perfagg development root", PA_DEVCA_ROOT, NULL, *root_key,
                           now - BACKDATE_S, now + ROOT_LIFETIME_S);
    PA_ENSURE(*root != NULL);
    /* key first: a crash in between leaves a half pair, which is refused
     * above instead of silently replaced */
    PA_GUARD(save_key(dirfd, ROOT_KEY, *root_key, 0));
    PA_GUARD(save_cert(dirfd, ROOT_PEM, *root, 0));
    pa_log_info("attest: created a development attestation root in %s", dir);
    return 0;
}

/* The intermediate is derivable from the root at any time, so anything wrong
 * with it (absent, half present, not ours, expiring) is fixed by re-issuing. */
static int load_or_create_intermediate(int dirfd, const char *dir, int64_t now, X509 *root,
                                       EVP_PKEY *root_key, X509 **inter, EVP_PKEY **inter_key)
{
    int has_key = file_exists(dirfd, INTER_KEY);
    int has_pem = file_exists(dirfd, INTER_PEM);
    if (has_key < 0 || has_pem < 0)
        return -1;
    if (has_key && has_pem) {
        *inter_key = load_key(dirfd, INTER_KEY);
        *inter = load_cert(dirfd, INTER_PEM);
        if (*inter_key != NULL && *inter != NULL &&
            X509_check_private_key(*inter, *inter_key) == 1 &&
            X509_verify(*inter, root_key) == 1 && X509_check_ca(*inter) != 0 &&
            X509_NAME_cmp(X509_get_issuer_name(*inter), X509_get_subject_name(root)) == 0 &&
            valid_until(*inter, now + INTER_RENEW_MARGIN_S))
            return 0;
        pa_log_warn("attest: re-issuing the development intermediate in %s", dir);
        EVP_PKEY_free(*inter_key);
        X509_free(*inter);
        *inter_key = NULL;
        *inter = NULL;
        ERR_clear_error();
    }
    *inter_key = pa_devca_keygen();
    PA_ENSURE(*inter_key != NULL);
    *inter = pa_devca_issue(*inter_key, "perfagg development intermediate", PA_DEVCA_INTERMEDIATE,
                            root, root_key, now - BACKDATE_S, now + INTER_LIFETIME_S);
    PA_ENSURE(*inter != NULL);
    PA_GUARD(save_key(dirfd, INTER_KEY, *inter_key, 1));
    PA_GUARD(save_cert(dirfd, INTER_PEM, *inter, 1));
    return 0;
}

int pa_devca_load_or_create(const char *dir, X509 **root, X509 **inter, EVP_PKEY **inter_key)
{
    int rc = -1;
    int dirfd = -1;
    EVP_PKEY *root_key = NULL;

    if (dir == NULL || root == NULL || inter == NULL || inter_key == NULL)
        return -1;
    *root = NULL;
    *inter = NULL;
    *inter_key = NULL;
    if (make_dirs(dir) != 0) {
        pa_log_error("attest: cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    PA_ENSURE_GOTO(dirfd >= 0, cleanup);

    int64_t now = (int64_t)time(NULL);
    PA_GUARD_GOTO(load_or_create_root(dirfd, dir, now, root, &root_key), cleanup);
    PA_GUARD_GOTO(load_or_create_intermediate(dirfd, dir, now, *root, root_key, inter, inter_key),
                  cleanup);
    rc = 0;
cleanup:
    /* the root key is only needed to (re-)issue the intermediate */
    EVP_PKEY_free(root_key);
    if (dirfd >= 0)
        close(dirfd);
    if (rc != 0) {
        X509_free(*root);
        X509_free(*inter);
        EVP_PKEY_free(*inter_key);
        *root = NULL;
        *inter = NULL;
        *inter_key = NULL;
    }
    return rc;
}
