/* Allocation functions that wipe every block when it is freed. The enclave
 * installs them into jansson (which copies the decrypted credentials JSON into
 * its own strings), libcurl (which copies the API-key header) and OpenSSL
 * (TLS record buffers, HMAC contexts), so no library leaves a plaintext copy
 * behind in freed heap memory. */
#ifndef PA_SECURE_ALLOC_H
#define PA_SECURE_ALLOC_H

#include "enclave_only.h"

#include <stddef.h>

void *pa_secure_malloc(size_t n);
void *pa_secure_calloc(size_t nmemb, size_t size);
void *pa_secure_realloc(void *p, size_t n);
char *pa_secure_strdup(const char *s);
void pa_secure_free(void *p);

/* CRYPTO_set_mem_functions, OpenSSL initialised without a configuration file,
 * json_set_alloc_funcs + curl_global_init_mem. Call once, first thing (before
 * any OpenSSL allocation). */
int pa_secure_alloc_install(void);

#endif
