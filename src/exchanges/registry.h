/* The venues this enclave can fetch from, in one table (registry.c). */
#ifndef PA_REGISTRY_H
#define PA_REGISTRY_H

#include "enclave_only.h"

#include <stddef.h>

#include "connector.h"

/* The spot connector whose name is the credentials' `exchange`, or NULL. */
const pa_connector *pa_connector_find(const char *name);
/* The connector for the credentials' `exchange` and `accountType` (NULL:
 * "spot"), or NULL. */
const pa_connector *pa_connector_find_account(const char *name, const char *account_type);

/* The table itself, for listing (NULL-terminated). */
extern const pa_connector *const pa_connectors[];

#endif
