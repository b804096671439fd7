/* JSON writer, PRNG, dates, UTF-8 helpers and punycode for rdapgen. */
#include "rdapgen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON writer ---- */

static void jw_grow_slow(jw_t *w, size_t extra)
{
    size_t cap = w->cap ? w->cap : 8192;
    while (cap < w->len + extra)
        cap *= 2;
    char *nb = realloc(w->buf, cap);
    if (!nb) {
        fputs("rdapgen: out of memory\n", stderr);
        exit(2);
    }
    w->buf = nb;
    w->cap = cap;
}

static inline void jw_grow(jw_t *w, size_t extra)
{
    if (w->len + extra > w->cap)
        jw_grow_slow(w, extra);
}

static inline void put(jw_t *w, const char *s, size_t n)
{
    jw_grow(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void putch(jw_t *w, char c)
{
    jw_grow(w, 1);
    w->buf[w->len++] = c;
}

void jw_init(jw_t *w)
{
    memset(w, 0, sizeof *w);
    w->first[0] = 1;
}

void jw_free(jw_t *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void jw_reset(jw_t *w)
{
    w->len = 0;
    w->depth = 0;
    w->after_key = 0;
    w->first[0] = 1;
}

/* Comma before a value or key, unless first in its container or after a key. */
static void sep(jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth])
        putch(w, ',');
    w->first[w->depth] = 0;
}

static void jw_open(jw_t *w, char c)
{
    sep(w);
    putch(w, c);
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        fputs("rdapgen: JSON nesting too deep\n", stderr);
        exit(2);
    }
    w->first[++w->depth] = 1;
}

void jw_obj(jw_t *w) { jw_open(w, '{'); }
void jw_arr(jw_t *w) { jw_open(w, '['); }
void jw_end_obj(jw_t *w) { w->depth--; putch(w, '}'); }
void jw_end_arr(jw_t *w) { w->depth--; putch(w, ']'); }

static void put_escaped(jw_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_grow(w, n + 2);
    char *out = w->buf + w->len;
    *out++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *out++ = (char)c;
            continue;
        }
        /* rare: make room for the longest escape of what is left */
        w->len = (size_t)(out - w->buf);
        jw_grow(w, 6 * (n - i) + 1);
        out = w->buf + w->len;
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\n': *out++ = 'n'; break;
        case '\t': *out++ = 't'; break;
        case '\r': *out++ = 'r'; break;
        default:
            memcpy(out, "u00", 3);
            out[3] = hex[c >> 4];
            out[4] = hex[c & 15];
            out += 5;
        }
    }
    *out++ = '"';
    w->len = (size_t)(out - w->buf);
}

/* Member names are the generator's own constants: nothing to escape. */
void jw_key(jw_t *w, const char *k)
{
    size_t n = strlen(k);
    sep(w);
    jw_grow(w, n + 3);
    char *out = w->buf + w->len;
    out[0] = '"';
    memcpy(out + 1, k, n);
    out[n + 1] = '"';
    out[n + 2] = ':';
    w->len += n + 3;
    w->after_key = 1;
}

void jw_strn(jw_t *w, const char *s, size_t n)
{
    sep(w);
    put_escaped(w, s, n);
}

void jw_str(jw_t *w, const char *s) { jw_strn(w, s, strlen(s)); }

void jw_strf(jw_t *w, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    jw_strn(w, buf, (size_t)n);
}

void jw_int(jw_t *w, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    sep(w);
    put(w, buf, (size_t)n);
}

void jw_bool(jw_t *w, int v)
{
    sep(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void jw_null(jw_t *w)
{
    sep(w);
    put(w, "null", 4);
}

void jw_raw(jw_t *w, const char *s, size_t n)
{
    sep(w);
    put(w, s, n);
}

void jw_kstr(jw_t *w, const char *k, const char *s)
{
    jw_key(w, k);
    jw_str(w, s);
}

void jw_kint(jw_t *w, const char *k, int64_t v)
{
    jw_key(w, k);
    jw_int(w, v);
}

jw_mark_t jw_mark(const jw_t *w)
{
    jw_mark_t m = {w->len, w->depth, w->after_key, w->first[w->depth]};
    return m;
}

void jw_rollback(jw_t *w, jw_mark_t m)
{
    w->len = m.len;
    w->depth = m.depth;
    w->after_key = m.after_key;
    w->first[m.depth] = m.first;
}

void jw_prop(jw_t *w, const char *name, const char *type, const char *value)
{
    jw_arr(w);
    jw_str(w, name);
    jw_obj(w);
    jw_end_obj(w);
    jw_str(w, type);
    jw_str(w, value);
    jw_end_arr(w);
}

/* ---- PRNG ---- */

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void rng_seed(rng_t *r, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    r->s = mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

int rng_range(rng_t *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int rng_chance(rng_t *r, double p) { return rng_unit(r) < p; }

const char *pick(rng_t *r, const wlist_t *l) { return l->v[rng_below(r, l->n)]; }

/* ---- dates (proleptic Gregorian, H. Hinnant's algorithms) ---- */

int64_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
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
    *y = (int)(yy + (*m <= 2));
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

void fmt_date(char *buf, int64_t ms, int style)
{
    int64_t days = floordiv(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned secs = (unsigned)(rem / 1000), milli = (unsigned)(rem % 1000);
    if (y < 0 || y > 9999)
        y = 0;
    char *p = put2(put2(buf, (unsigned)y / 100), (unsigned)y % 100);
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    p = put2(p, d);
    *p++ = 'T';
    p = put2(p, secs / 3600);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    p = put2(p, secs % 60);
    if (style == 1) {
        *p++ = '.';
        *p++ = (char)('0' + milli / 100);
        p = put2(p, milli % 100);
    }
    if (style == 2)
        memcpy(p, "+00:00", 7);
    else
        memcpy(p, "Z", 2);
}

int64_t add_years(int64_t ms, int years)
{
    int64_t days = floordiv(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    y += years;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        d = 28;
    return days_from_civil(y, m, d) * 86400000 + rem;
}

/* ---- UTF-8, punycode, slugs ---- */

static size_t utf8_decode(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0 && u[1]) {
        *cp = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
        return 2;
    }
    if ((u[0] & 0xf0) == 0xe0 && u[1] && u[2]) {
        *cp = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
        return 3;
    }
    if ((u[0] & 0xf8) == 0xf0 && u[1] && u[2] && u[3]) {
        *cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) |
              ((uint32_t)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
        return 4;
    }
    *cp = 0xfffd;
    return 1;
}

static uint32_t adapt(uint32_t delta, uint32_t numpoints, int first)
{
    delta = first ? delta / 700 : delta / 2;
    delta += delta / numpoints;
    uint32_t k = 0;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 36 - 1;
        k += 36;
    }
    return k + (36 - 1 + 1) * delta / (delta + 38);
}

int idna_label(const char *utf8, char *out, size_t outsz)
{
    uint32_t cps[128];
    size_t n = 0, o = 0;
    for (const char *p = utf8; *p && n < 128;) {
        p += utf8_decode(p, &cps[n]);
        n++;
    }
    size_t basic = 0;
    for (size_t i = 0; i < n; i++)
        basic += cps[i] < 0x80;
    if (basic == n) {
        sfmt(out, outsz, "%s", utf8);
        return 0;
    }
#define EMIT(ch)                                                                                   \
    do {                                                                                           \
        if (o + 1 >= outsz)                                                                        \
            return -1;                                                                             \
        out[o++] = (char)(ch);                                                                     \
    } while (0)
    EMIT('x'); EMIT('n'); EMIT('-'); EMIT('-');
    for (size_t i = 0; i < n; i++)
        if (cps[i] < 0x80)
            EMIT(cps[i]);
    if (basic > 0)
        EMIT('-');
    uint32_t cp = 128, delta = 0, bias = 72, h = (uint32_t)basic;
    while (h < n) {
        uint32_t m = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (cps[i] >= cp && cps[i] < m)
                m = cps[i];
        delta += (m - cp) * (h + 1);
        cp = m;
        for (size_t i = 0; i < n; i++) {
            if (cps[i] < cp)
                delta++;
            if (cps[i] != cp)
                continue;
            uint32_t q = delta;
            for (uint32_t k = 36;; k += 36) {
                uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                if (q < t)
                    break;
                uint32_t dig = t + (q - t) % (36 - t);
                EMIT(dig < 26 ? 'a' + dig : '0' + dig - 26);
                q = (q - t) / (36 - t);
            }
            EMIT(q < 26 ? 'a' + q : '0' + q - 26);
            bias = adapt(delta, h + 1, h == basic);
            delta = 0;
            h++;
        }
        delta++;
        cp++;
    }
#undef EMIT
    out[o] = 0;
    return 0;
}

/* Latin-1 supplement and Latin Extended-A letters folded to ASCII. */
static const char *fold(uint32_t cp)
{
    static const char *const l1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "",  "o", "u", "u", "u", "u", "y", "th", "y"};
    static const char *const ext[128] = {
        "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
        "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
        "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
        "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
        "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
        "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
        "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
        "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s"};
    if (cp >= 0xc0 && cp < 0x100)
        return l1[cp - 0xc0];
    if (cp >= 0x100 && cp < 0x180)
        return ext[cp - 0x100];
    return "";
}

void ascii_slug(const char *utf8, char *out, size_t outsz, char sep_ch)
{
    size_t o = 0;
    int pending = 0;
    for (const char *p = utf8; *p && o + 4 < outsz;) {
        uint32_t cp;
        p += utf8_decode(p, &cp);
        const char *f = NULL;
        char one[2] = {0, 0};
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            one[0] = (char)cp;
            f = one;
        } else if (cp >= 'A' && cp <= 'Z') {
            one[0] = (char)(cp - 'A' + 'a');
            f = one;
        } else if (cp == ' ' || cp == '-') {
            pending = o > 0;
        } else {
            f = fold(cp);
        }
        if (f && *f) {
            if (pending && sep_ch)
                out[o++] = sep_ch;
            pending = 0;
            for (; *f && o + 2 < outsz; f++)
                out[o++] = *f;
        }
    }
    out[o] = 0;
}

void upper_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

void sfmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (r < 0 && n > 0)
        buf[0] = 0;
}
