/* Option values as users write them: integers, booleans, sizes, durations. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/options.h"

int options_parse_int(const char *text, int64_t *out)
{
    if (!text || !*text || isspace((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = value;
    return 0;
}

int options_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", NULL };
    static const char *const no[] = { "false", "no", "off", NULL };
    for (int i = 0; yes[i]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Reads the leading unsigned decimal number of *text; advances it. */
static int read_unsigned(const char **text, int64_t *out)
{
    const char *p = *text;
    if (!isdigit((unsigned char)*p))
        return -1;
    int64_t value = 0;
    for (; isdigit((unsigned char)*p); p++) {
        int digit = *p - '0';
        if (value > (INT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *text = p;
    *out = value;
    return 0;
}

static int multiply(int64_t value, int64_t factor, int64_t *out)
{
    if (value > INT64_MAX / factor)
        return -1;
    *out = value * factor;
    return 0;
}

int options_parse_size(const char *text, int64_t *out)
{
    int64_t value;
    const char *p = text;
    if (read_unsigned(&p, &value) < 0)
        return -1;
    int64_t factor = 1;
    switch (toupper((unsigned char)*p)) {
    case 'K': factor = INT64_C(1) << 10; p++; break;
    case 'M': factor = INT64_C(1) << 20; p++; break;
    case 'G': factor = INT64_C(1) << 30; p++; break;
    case 'T': factor = INT64_C(1) << 40; p++; break;
    default: break;
    }
    if (factor > 1 && *p == 'i')
        p++;
    if (*p == 'B' || (*p == 'b' && factor > 1))
        p++;
    if (*p)
        return -1;
    return multiply(value, factor, out);
}

int options_parse_duration(const char *text, int64_t *out)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
    const char *p = text;
    int64_t total = 0;
    if (!*p)
        return -1;
    if (strspn(text, "0123456789") == strlen(text))
        return read_unsigned(&p, out); /* a bare number is milliseconds */
    while (*p) {
        int64_t value;
        if (read_unsigned(&p, &value) < 0)
            return -1;
        size_t unit_len = strspn(p, "abcdefghijklmnopqrstuvwxyz");
        int64_t factor = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].suffix) == unit_len && strncmp(p, units[i].suffix, unit_len) == 0)
                factor = units[i].ms;
        int64_t part;
        if (!factor || multiply(value, factor, &part) < 0 || total > INT64_MAX - part)
            return -1;
        total += part;
        p += unit_len;
    }
    *out = total;
    return 0;
}

int options_parse_double(const char *text, double *out)
{
    if (!*text || isspace((unsigned char)*text))
        return -1;
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || *end || !isfinite(value))
        return -1;
    *out = value;
    return 0;
}

const char *options_type_name(rdapsync_option_type type)
{
    switch (type) {
    case RDAPSYNC_OPT_STRING: return "string";
    case RDAPSYNC_OPT_INT: return "int";
    case RDAPSYNC_OPT_BOOL: return "bool";
    case RDAPSYNC_OPT_SIZE: return "size";
    case RDAPSYNC_OPT_DURATION: return "duration";
    case RDAPSYNC_OPT_ENUM: return "enum";
    case RDAPSYNC_OPT_LIST: return "list";
    case RDAPSYNC_OPT_DOUBLE: return "double";
    case RDAPSYNC_OPT_MAP: return "map";
    case RDAPSYNC_OPT_JSON: return "json";
    }
    return "unknown";
}

void options_format_value(rdapsync_option_type type, int64_t value, char *out, size_t out_size)
{
    static const struct {
        const char *suffix;
        int64_t unit;
    } sizes[] = { { "T", INT64_C(1) << 40 }, { "G", INT64_C(1) << 30 }, { "M", INT64_C(1) << 20 }, { "K", 1024 } },
      durations[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
    if (type == RDAPSYNC_OPT_SIZE || type == RDAPSYNC_OPT_DURATION) {
        bool is_size = type == RDAPSYNC_OPT_SIZE;
        for (size_t i = 0; i < 4 && value > 0; i++) {
            int64_t unit = is_size ? sizes[i].unit : durations[i].unit;
            if (value % unit == 0) {
                snprintf(out, out_size, "%lld%s", (long long)(value / unit),
                         is_size ? sizes[i].suffix : durations[i].suffix);
                return;
            }
        }
        snprintf(out, out_size, "%lld%s", (long long)value, is_size ? "" : "ms");
        return;
    }
    snprintf(out, out_size, "%lld", (long long)value);
}

bool options_is_null(const ynode *node)
{
    return node && node->kind == YNODE_SCALAR && !node->quoted &&
           (!node->scalar[0] || strcmp(node->scalar, "~") == 0 || strcmp(node->scalar, "null") == 0 ||
            strcmp(node->scalar, "Null") == 0 || strcmp(node->scalar, "NULL") == 0);
}

