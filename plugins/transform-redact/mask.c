#include "mask.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK_CHAR '*'

static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Worst case: every byte becomes one mask character, plus a little. */
static char *buffer_for(size_t len)
{
    return malloc(len + 8);
}

/* Keeps the first `keep` code points, masks the others except spaces and punctuation. */
static size_t mask_text(const char *in, size_t len, int keep, char *out)
{
    size_t n = 0;
    int seen = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_continuation(c)) {
            if (seen <= keep)
                out[n++] = (char)c;
            continue;
        }
        seen++;
        if (seen <= keep || c == ' ' || c == '-' || c == ',' || c == '.' || c == '\n')
            out[n++] = (char)c;
        else
            out[n++] = MASK_CHAR;
    }
    return n;
}

static size_t mask_email(const char *in, size_t len, int keep, char *out)
{
    const char *at = memchr(in, '@', len);
    size_t local, n = 0;
    int seen = 0;

    if (!at)
        return mask_text(in, len, keep, out);
    local = (size_t)(at - in);
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)in[i];
        if (is_continuation(c)) {
            if (seen <= keep)
                out[n++] = (char)c;
            continue;
        }
        seen++;
        out[n++] = seen <= keep ? (char)c : MASK_CHAR;
    }
    memcpy(out + n, at, len - local);
    return n + len - local;
}

static size_t mask_phone(const char *in, size_t len, int keep, char *out)
{
    int seen = 0;

    for (size_t i = 0; i < len; i++) {
        if (is_digit(in[i]) && ++seen > keep)
            out[i] = MASK_CHAR;
        else
            out[i] = in[i];
    }
    return len;
}

/* "Corwin Ashby" -> "C. A." */
static size_t initials(const char *in, size_t len, char *out)
{
    size_t n = 0, i = 0;

    while (i < len) {
        while (i < len && (in[i] == ' ' || in[i] == '\t'))
            i++;
        if (i >= len)
            break;
        if (n)
            out[n++] = ' ';
        out[n++] = in[i++];
        while (i < len && is_continuation((unsigned char)in[i]))
            out[n++] = in[i++];
        out[n++] = '.';
        while (i < len && in[i] != ' ' && in[i] != '\t')
            i++;
    }
    return n;
}

static size_t partial(const rrule *r, rfield field, const char *in, size_t len, char *out)
{
    switch (field) {
    case RF_EMAIL:
        return mask_email(in, len, r->keep < 0 ? 1 : r->keep, out);
    case RF_PHONE:
    case RF_FAX:
        return mask_phone(in, len, r->keep < 0 ? 0 : r->keep, out);
    case RF_NAME:
        return initials(in, len, out);
    case RF_CONTACT_URI:
        if (len > 7 && strncasecmp(in, "mailto:", 7) == 0) {
            memcpy(out, in, 7);
            return 7 + mask_email(in + 7, len - 7, r->keep < 0 ? 1 : r->keep, out + 7);
        }
        if (len > 4 && strncasecmp(in, "tel:", 4) == 0)
            return mask_phone(in, len, r->keep < 0 ? 0 : r->keep, out);
        return mask_text(in, len, r->keep < 0 ? 1 : r->keep, out);
    default:
        return mask_text(in, len, r->keep < 0 ? 1 : r->keep, out);
    }
}

char *mask_value(const rrule *r, rfield field, const char *in, size_t len, size_t *out_len)
{
    char *out;
    size_t n = 0;

    if (r->method == RM_REPLACEMENT_VALUE && r->value) {
        n = strlen(r->value);
        out = malloc(n + 1);
        if (out)
            memcpy(out, r->value, n);
    } else {
        out = buffer_for(len * 2);
        if (out && r->method == RM_PARTIAL_VALUE)
            n = partial(r, field, in, len, out);
    }
    if (!out)
        return NULL;
    out[n] = '\0';
    *out_len = n;
    return out;
}

int mask_is_placeholder(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    return len == 0 || (len >= 8 && strncasecmp(s, "redacted", 8) == 0);
}
