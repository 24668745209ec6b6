/* The venues this enclave can fetch from, in one table (registry.c). */
#ifndef PA_REGISTRY_H
#define PA_REGISTRY_H

#include "enclave_only.h"

#include <stddef.h>

#include "connector.h"

/* The connector whose name is the credentials' `exchange`, or NULL. */
const pa_connector *pa_connector_find(const char *name);

/* The table itself, for listing (NULL-terminated). */
extern const pa_connector *const pa_connectors[];

#endif
