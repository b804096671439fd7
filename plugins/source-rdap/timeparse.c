/*
 * Timestamps of the RDAP source: HTTP-dates in Retry-After, read without the
 * C library's time zone machinery (timegm() is not C11 and mktime() reads
 * TZ; eventDate goes through plugins/common/rfc3339.c); and the backoff
 * formula.
 */
#include "rdap_parts.h"
#include "rfc3339.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int month_index(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(names + 3 * i, m, 3) == 0)
            return i + 1;
    return 0;
}

/* "HH:MM:SS" */
static int clock_of(const char *p, int *h, int *mi, int *s)
{
    return rfc3339_digits(p, 2, h) || p[2] != ':' || rfc3339_digits(p + 3, 2, mi) || p[5] != ':' || rfc3339_digits(p + 6, 2, s) ? -1 : 0;
}

int http_date_ms(const char *t, int64_t *ms)
{
    int y, mo, d, h, mi, s;
    const char *comma = t ? strchr(t, ',') : NULL;
    size_t len = t ? strlen(t) : 0;

    if (comma && comma - t == 3 && len == 29) { /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        const char *p = comma + 2;
        if (comma[1] != ' ' || rfc3339_digits(p, 2, &d) || p[2] != ' ' || !(mo = month_index(p + 3)) || p[6] != ' ' ||
            rfc3339_digits(p + 7, 4, &y) || p[11] != ' ' || clock_of(p + 12, &h, &mi, &s) || strcmp(p + 20, " GMT") != 0)
            return -1;
    } else if (comma) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        const char *p = comma + 2;
        int yy;
        if (comma[1] != ' ' || strlen(p) != 22 || rfc3339_digits(p, 2, &d) || p[2] != '-' || !(mo = month_index(p + 3)) ||
            p[6] != '-' || rfc3339_digits(p + 7, 2, &yy) || p[9] != ' ' || clock_of(p + 10, &h, &mi, &s) ||
            strcmp(p + 18, " GMT") != 0)
            return -1;
        y = yy < 70 ? 2000 + yy : 1900 + yy; /* RFC 9110: a two-digit year more than 50 years ahead is past */
    } else if (len == 24) { /* asctime: Sun Nov  6 08:49:37 1994 */
        const char *p = t + 4;
        if (t[3] != ' ' || !(mo = month_index(p)) || p[3] != ' ' ||
            (p[4] == ' ' ? rfc3339_digits(p + 5, 1, &d) : rfc3339_digits(p + 4, 2, &d)) || p[6] != ' ' ||
            clock_of(p + 7, &h, &mi, &s) || p[15] != ' ' || rfc3339_digits(p + 16, 4, &y))
            return -1;
    } else {
        return -1;
    }
    if (!rfc3339_civil_ok(mo, d, h, mi, s))
        return -1;
    *ms = rfc3339_civil_ms(y, mo, d, h, mi, s);
    return 0;
}

int retry_after_ms(const char *value, int64_t now_unix_ms, int64_t *delay_ms)
{
    const char *p = value;
    int64_t at;

    if (!p)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (isdigit((unsigned char)*p)) {
        char *end;
        unsigned long long secs = strtoull(p, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end != '\0')
            return -1;
        *delay_ms = secs > INT64_MAX / 1000 ? INT64_MAX : (int64_t)secs * 1000;
        return 0;
    }
    char trimmed[64];
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == '\t'))
        n--;
    if (n >= sizeof(trimmed))
        return -1;
    memcpy(trimmed, p, n);
    trimmed[n] = '\0';
    if (http_date_ms(trimmed, &at) != 0)
        return -1;
    *delay_ms = at > now_unix_ms ? at - now_unix_ms : 0;
    return 0;
}

int64_t backoff_ms(int64_t initial, int64_t max, unsigned failures, double unit)
{
    int64_t d = initial > 0 ? initial : 1;
    for (unsigned i = 0; i < failures && d < max; i++)
        d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
    if (d > max)
        d = max;
    return d / 2 + (int64_t)((double)(d - d / 2) * unit);
}
