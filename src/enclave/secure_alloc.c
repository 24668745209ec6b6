#include "secure_alloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

/* Blocks come from the ordinary malloc, so memory from these functions and
 * from plain malloc/free can be mixed freely (json_dumps output is released
 * with free(), for instance); freeing wipes the block's whole usable size,
 * which glibc's malloc_usable_size reports. */

void *pa_secure_malloc(size_t n)
{
    return malloc(n);
}

void *pa_secure_calloc(size_t nmemb, size_t size)
{
    return calloc(nmemb, size);
}

void pa_secure_free(void *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, malloc_usable_size(p));
    free(p);
}

/* Never realloc in place: the old block is copied, then wiped. */
void *pa_secure_realloc(void *p, size_t n)
{
    if (p == NULL)
        return malloc(n);
    if (n == 0) {
        pa_secure_free(p);
        return NULL;
    }
    void *q = malloc(n);
    if (q == NULL)
        return NULL;
    size_t old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    pa_secure_free(p);
    return q;
}

char *pa_secure_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* OpenSSL's own allocations (TLS record buffers holding the HTTP request
 * with the API-key header, HMAC and cipher contexts) through the same wiping
 * free. The secure heap is separate and wipes itself. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return pa_secure_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    pa_secure_free(p);
}

int pa_secure_alloc_install(void)
{
    /* Must come before anything allocates through OpenSSL (curl's global
     * init does): OpenSSL refuses new functions after its first allocation. */
    if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) != 1)
        return -1;
    /* Then, before libcurl's global init, which would load the OpenSSL
     * configuration ($OPENSSL_CONF: the host's choice): its modules would run
     * in this process and its system_default section would change TLS
     * defaults. egress.c sets every TLS parameter itself, so none is read. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
        return -1;
    json_set_alloc_funcs(pa_secure_malloc, pa_secure_free);
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, pa_secure_malloc, pa_secure_free,
                             pa_secure_realloc, pa_secure_strdup, pa_secure_calloc) != CURLE_OK)
        return -1;
    return 0;
}
