#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t pa_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pa_mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

struct timespec pa_deadline_after_ms(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (ms > 0) {
        t.tv_sec += (time_t)(ms / 1000);
        t.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
    }
    return t;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int pa_time_parse(const char *s, int64_t *ms_out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;
    if (s == NULL || ms_out == NULL)
        return -1;
    size_t n = strlen(s);
    if (n < 20 || n > 64)
        return -1;
    PA_GUARD(digits(s, 4, &y));
    PA_ENSURE(s[4] == '-');
    PA_GUARD(digits(s + 5, 2, &mo));
    PA_ENSURE(s[7] == '-');
    PA_GUARD(digits(s + 8, 2, &d));
    PA_ENSURE(s[10] == 'T' || s[10] == 't');
    PA_GUARD(digits(s + 11, 2, &h));
    PA_ENSURE(s[13] == ':');
    PA_GUARD(digits(s + 14, 2, &mi));
    PA_ENSURE(s[16] == ':');
    PA_GUARD(digits(s + 17, 2, &se));
    PA_ENSURE(mo >= 1 && mo <= 12 && d >= 1);
    PA_ENSURE(d <= mdays[mo - 1] + (mo == 2 && is_leap(y)));
    /* A leap second (60) is valid RFC 3339 but has no POSIX time; reject it. */
    PA_ENSURE(h <= 23 && mi <= 59 && se <= 59);
    const char *p = s + 19;
    int frac_ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (nd < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            nd++;
            p++;
        }
        PA_ENSURE(nd >= 1);
        for (int i = nd; i < 3; i++)
            frac_ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        PA_GUARD(digits(p + 1, 2, &oh));
        PA_ENSURE(p[3] == ':');
        PA_GUARD(digits(p + 4, 2, &om));
        PA_ENSURE(oh <= 23 && om <= 59);
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    PA_ENSURE(*p == 0);
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs =
        days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se - (int64_t)offset_min * 60;
    int64_t ms = secs * 1000 + frac_ms;
    /* The offset can move a local 0000 or 9999 date outside years 0000-9999
     * UTC, which pa_time_format cannot write (it clamps): refuse such an
     * instant rather than accept one the service would print differently. */
    PA_ENSURE(ms >= PA_TIME_MIN_MS && ms <= PA_TIME_MAX_MS);
    *ms_out = ms;
    return 0;
}

void pa_time_format(int64_t ms, char out[PA_TIME_STR_LEN])
{
    int64_t days = pa_time_day(ms);
    /* Not ms - days * 86400000: that product overflows near INT64_MIN. */
    int64_t ms_of_day = ms % 86400000; /* 0 .. 86399999 */
    if (ms_of_day < 0)
        ms_of_day += 86400000;
    unsigned sod = (unsigned)(ms_of_day / 1000), msr = (unsigned)(ms_of_day % 1000);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) /* outside RFC 3339's range: clamp visibly */
        y = y < 0 ? 0 : 9999;
    snprintf(out, PA_TIME_STR_LEN, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y % 10000, m % 13,
             d % 32, sod / 3600 % 24, sod / 60 % 60, sod % 60, msr % 1000);
}

int64_t pa_time_day(int64_t ms)
{
    /* Floor division without computing ms - 86399999, which overflows for
     * times near INT64_MIN. */
    int64_t d = ms / 86400000;
    return ms % 86400000 < 0 ? d - 1 : d;
}
