/*
 * Timestamps of the RDAP source: eventDate (RFC 3339) and HTTP-dates in
 * Retry-After, read without the C library's time zone machinery (timegm()
 * is not C11 and mktime() reads TZ); and the backoff formula.
 */
#include "rdap_parts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t civil_ms(int y, int mo, int d, int h, int mi, int s)
{
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

static bool civil_ok(int mo, int d, int h, int mi, int s)
{
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

int rfc3339_ms(const char *text, int64_t *ms)
{
    int y, mo, d, h, mi, s;
    const char *p;
    int64_t millis = 0, offset_min = 0;

    if (!text || strlen(text) < 19 || digits(text, 4, &y) || text[4] != '-' || digits(text + 5, 2, &mo) ||
        text[7] != '-' || digits(text + 8, 2, &d) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        digits(text + 11, 2, &h) || text[13] != ':' || digits(text + 14, 2, &mi) || text[16] != ':' ||
        digits(text + 17, 2, &s) || !civil_ok(mo, d, h, mi, s))
        return -1;
    p = text + 19;
    if (*p == '.') {
        int scale = 100;
        if (!isdigit((unsigned char)*++p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            millis += (*p - '0') * scale;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return -1;
        offset_min = (int64_t)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    *ms = civil_ms(y, mo, d, h, mi, s) - offset_min * 60000 + millis;
    return 0;
}

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
    return digits(p, 2, h) || p[2] != ':' || digits(p + 3, 2, mi) || p[5] != ':' || digits(p + 6, 2, s) ? -1 : 0;
}

int http_date_ms(const char *t, int64_t *ms)
{
    int y, mo, d, h, mi, s;
    const char *comma = t ? strchr(t, ',') : NULL;
    size_t len = t ? strlen(t) : 0;

    if (comma && comma - t == 3 && len == 29) { /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        const char *p = comma + 2;
        if (comma[1] != ' ' || digits(p, 2, &d) || p[2] != ' ' || !(mo = month_index(p + 3)) || p[6] != ' ' ||
            digits(p + 7, 4, &y) || p[11] != ' ' || clock_of(p + 12, &h, &mi, &s) || strcmp(p + 20, " GMT") != 0)
            return -1;
    } else if (comma) { /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        const char *p = comma + 2;
        int yy;
        if (comma[1] != ' ' || strlen(p) != 22 || digits(p, 2, &d) || p[2] != '-' || !(mo = month_index(p + 3)) ||
            p[6] != '-' || digits(p + 7, 2, &yy) || p[9] != ' ' || clock_of(p + 10, &h, &mi, &s) ||
            strcmp(p + 18, " GMT") != 0)
            return -1;
        y = yy < 70 ? 2000 + yy : 1900 + yy; /* RFC 9110: a two-digit year more than 50 years ahead is past */
    } else if (len == 24) { /* asctime: Sun Nov  6 08:49:37 1994 */
        const char *p = t + 4;
        if (t[3] != ' ' || !(mo = month_index(p)) || p[3] != ' ' ||
            (p[4] == ' ' ? digits(p + 5, 1, &d) : digits(p + 4, 2, &d)) || p[6] != ' ' ||
            clock_of(p + 7, &h, &mi, &s) || p[15] != ' ' || digits(p + 16, 4, &y))
            return -1;
    } else {
        return -1;
    }
    if (!civil_ok(mo, d, h, mi, s))
        return -1;
    *ms = civil_ms(y, mo, d, h, mi, s);
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
