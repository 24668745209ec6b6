/* One line per venue: adding one is its folder (src/exchanges/<venue>/, picked
 * up by src/exchanges/CMakeLists.txt) and a line here. */
#include "registry.h"

#include <string.h>

#include "binance/binance.h"

const pa_connector *const pa_connectors[] = {
    &pa_binance_connector,
    &pa_binance_usdm_connector,
    NULL,
};

const pa_connector *pa_connector_find_account(const char *name, const char *account_type)
{
    if (name == NULL)
        return NULL;
    const char *want = account_type != NULL ? account_type : "spot";
    for (size_t i = 0; pa_connectors[i] != NULL; i++) {
        const char *have =
            pa_connectors[i]->account_type != NULL ? pa_connectors[i]->account_type : "spot";
        if (strcmp(pa_connectors[i]->name, name) == 0 && strcmp(have, want) == 0)
            return pa_connectors[i];
    }
    return NULL;
}

const pa_connector *pa_connector_find(const char *name)
{
    return pa_connector_find_account(name, "spot");
}
