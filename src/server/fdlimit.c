#include "fdlimit.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"

long pa_fdlimit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
        else
            pa_log_warn("cannot raise the open-files limit from %llu to %llu: %s",
                        (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                        strerror(errno));
    }
    /* RLIM_INFINITY or anything past what a long holds: plenty. */
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)(1L << 30))
        return 1L << 30;
    return (long)rl.rlim_cur;
}

unsigned pa_fdlimit_connections(long nofile, unsigned reserve, unsigned cap)
{
    if (nofile <= (long)reserve)
        return 0;
    long n = nofile - (long)reserve;
    return n < (long)cap ? (unsigned)n : cap;
}
