/* One line per venue: adding one is its folder (src/exchanges/<venue>/, picked
 * up by src/exchanges/CMakeLists.txt) and a line here. */
#include "registry.h"

#include <string.h>

#include "binance/binance.h"

const pa_connector *const pa_connectors[] = {
    &pa_binance_connector,
    NULL,
};

const pa_connector *pa_connector_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; pa_connectors[i] != NULL; i++)
        if (strcmp(pa_connectors[i]->name, name) == 0)
            return pa_connectors[i];
    return NULL;
}
