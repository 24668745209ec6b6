#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "timeutil.h"

static const char *component = "perfagg";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void pa_log_set_component(const char *name)
{
    component = name;
}

__attribute__((format(printf, 2, 0))) static void vlog(const char *level, const char *fmt, va_list ap)
{
    char ts[PA_TIME_STR_LEN];
    pa_time_format(pa_now_ms(), ts);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s %s %s: ", ts, level, component);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

#define DEFINE_LOG(name, level)                                                \
    void name(const char *fmt, ...)                                            \
    {                                                                          \
        va_list ap;                                                            \
        va_start(ap, fmt);                                                     \
        vlog(level, fmt, ap);                                                  \
        va_end(ap);                                                            \
    }

DEFINE_LOG(pa_log_info, "info")
DEFINE_LOG(pa_log_warn, "warn")
DEFINE_LOG(pa_log_error, "error")
