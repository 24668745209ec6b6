/* Named check reports: the one place a verdict is computed from checks. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

void pa_report_add(pa_verify_report *r, const char *name, pa_check_status status,
                   const char *fmt, ...)
{
    if (r->n >= PA_REPORT_MAX_CHECKS) {
        /* A check that cannot be recorded must not be silently lost. */
        r->overflow = 1;
        return;
    }
    pa_check *c = &r->checks[r->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
}

int pa_verify_report_passed(const pa_verify_report *r)
{
    if (r == NULL || r->n == 0 || r->overflow)
        return 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->checks[i].status != PA_CHECK_OK)
            return 0;
    return 1;
}

const pa_check *pa_verify_report_get(const pa_verify_report *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->n; i++)
        if (strcmp(r->checks[i].name, name) == 0)
            return &r->checks[i];
    return NULL;
}

const char *pa_check_status_str(pa_check_status s)
{
    switch (s) {
    case PA_CHECK_OK:
        return "ok";
    case PA_CHECK_FAILED:
        return "FAILED";
    case PA_CHECK_SKIPPED:
        return "skipped";
    default:
        return "FAILED";
    }
}

void pa_client_set_error(pa_client_error *err, long http_status, const char *code,
                         const char *fmt, ...)
{
    if (err == NULL)
        return;
    err->http_status = http_status;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
