/*
 * RFC 3339 timestamps (RDAP eventDate) to Unix milliseconds, without the
 * C library's time zone machinery: timegm() is not C11 and mktime() reads TZ.
 */
#include "rfc3339.h"

#include <ctype.h>
#include <string.h>

int rfc3339_digits(const char *s, int n, int *out)
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

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t rfc3339_civil_ms(int year, int month, int day, int hour, int minute, int second)
{
    return (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000;
}

int rfc3339_civil_ok(int month, int day, int hour, int minute, int second)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}

int rfc3339_to_ms(const char *text, int64_t *ms)
{
    int year, month, day, hour, minute, second;
    size_t len = text ? strlen(text) : 0;
    const char *p;
    int64_t millis = 0;

    if (len < 19 || rfc3339_digits(text, 4, &year) || text[4] != '-' || rfc3339_digits(text + 5, 2, &month) ||
        text[7] != '-' || rfc3339_digits(text + 8, 2, &day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        rfc3339_digits(text + 11, 2, &hour) || text[13] != ':' || rfc3339_digits(text + 14, 2, &minute) ||
        text[16] != ':' || rfc3339_digits(text + 17, 2, &second))
        return -1;
    if (!rfc3339_civil_ok(month, day, hour, minute, second))
        return -1;
    p = text + 19;
    if (*p == '.') {
        int scale = 100;
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            millis += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (rfc3339_digits(p + 1, 2, &oh) || p[3] != ':' || rfc3339_digits(p + 4, 2, &om))
            return -1;
        offset_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *ms = rfc3339_civil_ms(year, month, day, hour, minute, second) - offset_min * 60000 + millis;
    return 0;
}
