/*
 * Debezium's semantic types, read from the JsonConverter schema of a change
 * envelope, turned into plain JSON values in a row image (in place):
 *
 *   io.debezium.data.Json                      string -> the JSON value it holds
 *   org.apache.kafka.connect.data.Decimal      base64 two's complement + scale -> "123.45"
 *   io.debezium.data.VariableScaleDecimal      {scale, value} -> "123.45"
 *   io.debezium.time.Date, connect Date        days -> "2024-05-01" | epoch ms
 *   io.debezium.time.{,Micro,Nano}Time, connect Time
 *                                              since midnight -> "13:45:00.250" | ms
 *   io.debezium.time.{,Micro,Nano}Timestamp, connect Timestamp
 *                                              since the epoch -> "...T...Z" | epoch ms
 *   io.debezium.time.ZonedTimestamp            kept (already RFC 3339) | epoch ms
 *   everything else (Uuid, bytes as base64, ZonedTime, Year, ...) is kept.
 *
 * Columns named by json_fields are parsed as JSON too, with or without a
 * schema (the schemaless converter says nothing about types).
 */
#include "source_kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rfc3339.h"

#define J (ks_host->json)

#define DAY_MS INT64_C(86400000)

/* y-m-d of a day count since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* "HH:MM:SS" plus ".fff..." (`digits` wide) when the fraction is not 0. */
static int format_time_of_day(char *out, size_t size, int64_t units, int64_t per_second, int digits)
{
    int64_t secs = floor_div(units, per_second);
    int64_t frac = units - secs * per_second;
    int n = snprintf(out, size, "%02d:%02d:%02d", (int)(secs / 3600 % 24), (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac)
        n += snprintf(out + n, size - (size_t)n, ".%0*" PRId64, digits, frac);
    return n;
}

/* RFC 3339 in UTC of `units` (per_second per second) since the epoch. */
static void format_timestamp(char *out, size_t size, int64_t units, int64_t per_second, int digits)
{
    int64_t secs = floor_div(units, per_second);
    int64_t days = floor_div(secs, 86400);
    int64_t y;
    int m, d;

    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, size, "%04" PRId64 "-%02d-%02dT", y, m, d);
    n += format_time_of_day(out + n, size - (size_t)n, units - days * 86400 * per_second, per_second, digits);
    snprintf(out + n, size - (size_t)n, "Z");
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard (or URL-safe) base64 into a new buffer (caller frees); NULL when
 * it is not base64 or on allocation failure. */
static unsigned char *b64_decode(const char *s, size_t len, size_t *out_len)
{
    unsigned char *out = malloc(len / 4 * 3 + 3);
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=')
            break;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = n;
    return out;
}

/*
 * A big-endian two's complement integer scaled by 10^-scale as decimal text
 * (Kafka Connect's Decimal). A new string value, or NULL (not base64,
 * negative scale, memory).
 */
static rdapsync_value *decimal_value(const char *b64, size_t b64_len, int64_t scale)
{
    size_t n;
    unsigned char *mag = b64_decode(b64, b64_len, &n);
    rdapsync_value *v = NULL;

    if (!mag || scale < 0 || scale > 1000) {
        free(mag);
        return NULL;
    }
    bool negative = n > 0 && (mag[0] & 0x80);
    if (negative) { /* magnitude = two's complement negation */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int x = (unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)x;
            carry = x >> 8;
        }
    }
    /* Digits, least significant first, by repeated division by 10:
     * at most 2.41 digits per byte, plus the zeros the scale needs. */
    size_t cap = n * 241 / 100 + 2 + (size_t)scale + 2;
    char *digits = malloc(cap);
    char *text = malloc(cap + 3);
    size_t nd = 0;
    if (!digits || !text)
        goto done;
    for (;;) {
        bool zero = true;
        unsigned rem = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            if (mag[i])
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero)
            break;
    }
    while (nd <= (size_t)scale)
        digits[nd++] = '0';
    size_t t = 0;
    if (negative)
        text[t++] = '-';
    for (size_t i = nd; i-- > 0;) {
        text[t++] = digits[i];
        if (i == (size_t)scale && scale > 0)
            text[t++] = '.';
    }
    v = J->string_new(text, t);
done:
    free(digits);
    free(text);
    free(mag);
    return v;
}

/* A schema parameter (JsonConverter writes them as strings) as an integer. */
static bool schema_param_int(const rdapsync_value *field_schema, const char *name, int64_t *out)
{
    const rdapsync_value *p = J->object_get(J->object_get(field_schema, "parameters"), name);
    char *end;

    if (J->type(p) == RDAPSYNC_JSON_INTEGER) {
        *out = J->integer_value(p);
        return true;
    }
    if (J->type(p) != RDAPSYNC_JSON_STRING)
        return false;
    long long v = strtoll(J->string_value(p), &end, 10);
    if (*end || end == J->string_value(p))
        return false;
    *out = v;
    return true;
}

/* The value that replaces a temporal column: a string or an integer. */
static rdapsync_value *time_value(bool epoch_ms, int64_t ms, const char *text)
{
    return epoch_ms ? J->integer_new(ms) : J->string_new(text, strlen(text));
}

typedef enum { T_NONE, T_DATE, T_TIME, T_TIMESTAMP } temporal;

/* Which temporal type a schema name is, and its units per second. */
static temporal temporal_of(const char *name, int64_t *per_second, int *digits)
{
    static const struct {
        const char *name;
        temporal kind;
        int64_t per_second;
        int digits;
    } types[] = {
        {"io.debezium.time.Date", T_DATE, 1, 0},
        {"org.apache.kafka.connect.data.Date", T_DATE, 1, 0},
        {"io.debezium.time.Time", T_TIME, 1000, 3},
        {"org.apache.kafka.connect.data.Time", T_TIME, 1000, 3},
        {"io.debezium.time.MicroTime", T_TIME, 1000000, 6},
        {"io.debezium.time.NanoTime", T_TIME, 1000000000, 9},
        {"io.debezium.time.Timestamp", T_TIMESTAMP, 1000, 3},
        {"org.apache.kafka.connect.data.Timestamp", T_TIMESTAMP, 1000, 3},
        {"io.debezium.time.MicroTimestamp", T_TIMESTAMP, 1000000, 6},
        {"io.debezium.time.NanoTimestamp", T_TIMESTAMP, 1000000000, 9},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(name, types[i].name) == 0) {
            *per_second = types[i].per_second;
            *digits = types[i].digits;
            return types[i].kind;
        }
    return T_NONE;
}

/* The converted value of one column, NULL when it stays as it is; -1 with
 * err when the column does not hold what its schema says. */
static int convert_typed(const ks_config *cfg, const rdapsync_value *fs, const char *name, rdapsync_value *col,
                         rdapsync_value **out, char *err, size_t err_size)
{
    char text[64];
    int64_t per_second, scale;
    int digits;
    bool epoch = cfg->time_format == KS_TIME_FORMAT_EPOCH_MS;
    temporal kind;

    *out = NULL;
    if (strcmp(name, "io.debezium.data.Json") == 0) {
        if (J->type(col) != RDAPSYNC_JSON_STRING)
            return 0;
        char perr[200];
        *out = J->parse(J->string_value(col), J->string_length(col), perr, sizeof(perr));
        if (!*out) {
            snprintf(err, err_size, "is not valid JSON (%s): %s", name, perr);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "org.apache.kafka.connect.data.Decimal") == 0) {
        if (J->type(col) != RDAPSYNC_JSON_STRING)
            return 0;
        if (!schema_param_int(fs, "scale", &scale)) {
            snprintf(err, err_size, "is a Decimal without an integer scale parameter");
            return -1;
        }
        *out = decimal_value(J->string_value(col), J->string_length(col), scale);
        if (!*out) {
            snprintf(err, err_size, "is not a base64 Decimal with scale %" PRId64, scale);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "io.debezium.data.VariableScaleDecimal") == 0) {
        rdapsync_value *s = J->object_get(col, "scale"), *v = J->object_get(col, "value");
        if (J->type(s) != RDAPSYNC_JSON_INTEGER || J->type(v) != RDAPSYNC_JSON_STRING ||
            !(*out = decimal_value(J->string_value(v), J->string_length(v), J->integer_value(s)))) {
            snprintf(err, err_size, "is not a VariableScaleDecimal {scale, value}");
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "io.debezium.time.ZonedTimestamp") == 0) {
        int64_t ms;
        if (!epoch || J->type(col) != RDAPSYNC_JSON_STRING)
            return 0;
        if (rfc3339_to_ms(J->string_value(col), &ms) != 0) {
            snprintf(err, err_size, "is not an RFC 3339 ZonedTimestamp");
            return -1;
        }
        *out = J->integer_new(ms);
        return 0;
    }
    if ((kind = temporal_of(name, &per_second, &digits)) == T_NONE || J->type(col) != RDAPSYNC_JSON_INTEGER)
        return 0;
    int64_t units = J->integer_value(col);
    switch (kind) {
    case T_DATE: {
        int64_t y;
        int m, d;
        civil_from_days(units, &y, &m, &d);
        snprintf(text, sizeof(text), "%04" PRId64 "-%02d-%02d", y, m, d);
        *out = time_value(epoch, units * DAY_MS, text);
        break;
    }
    case T_TIME:
        format_time_of_day(text, sizeof(text), units, per_second, digits);
        *out = time_value(epoch, floor_div(units * 1000, per_second), text);
        break;
    case T_TIMESTAMP:
        format_timestamp(text, sizeof(text), units, per_second, digits);
        *out = time_value(epoch, per_second >= 1000 ? floor_div(units, per_second / 1000) : units * 1000, text);
        break;
    case T_NONE: break;
    }
    return 0;
}

static bool listed(const rdapsync_string_list *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], name) == 0)
            return true;
    return false;
}

/* The schema of the struct field `name` of a struct schema, or NULL. */
const rdapsync_value *dbz_field_schema(const rdapsync_value *struct_schema, const char *name)
{
    const rdapsync_value *fields = J->object_get(struct_schema, "fields");
    size_t n = J->type(fields) == RDAPSYNC_JSON_ARRAY ? J->array_size(fields) : 0;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_value *f = J->array_get(fields, i);
        const char *fname = J->string_value(J->object_get(f, "field"));
        if (fname && strcmp(fname, name) == 0)
            return f;
    }
    return NULL;
}

int dbz_convert_row(const ks_config *cfg, const rdapsync_value *row_schema, rdapsync_value *row,
                    const char *hand_over, rdapsync_value **handed, char *err, size_t err_size)
{
    char why[300];

    *handed = NULL;
    if (J->type(row) != RDAPSYNC_JSON_OBJECT)
        return 0;
    for (rdapsync_value_iter *it = J->object_iter(row); it; it = J->object_iter_next(row, it)) {
        const char *column = J->object_iter_key(it);
        rdapsync_value *col = J->object_iter_value(it), *out = NULL;
        const rdapsync_value *fs = row_schema ? dbz_field_schema(row_schema, column) : NULL;
        const char *name = J->string_value(J->object_get(fs, "name"));

        if (J->type(col) == RDAPSYNC_JSON_NULL)
            continue;
        if (name && convert_typed(cfg, fs, name, col, &out, why, sizeof(why)) != 0) {
            snprintf(err, err_size, "column %s %s", column, why);
            goto fail;
        }
        if (!out && listed(&cfg->json_fields, column) && J->type(col) == RDAPSYNC_JSON_STRING) {
            out = J->parse(J->string_value(col), J->string_length(col), why, sizeof(why));
            if (!out) {
                snprintf(err, err_size, "column %s (json_fields) is not valid JSON: %s", column, why);
                goto fail;
            }
        }
        if (out && hand_over && !*handed && J->type(out) == RDAPSYNC_JSON_OBJECT && strcmp(column, hand_over) == 0) {
            *handed = out;
            continue;
        }
        /* Replacing the value of the member under the iterator keeps it valid. */
        if (out && J->object_set(row, column, out) != 0) {
            snprintf(err, err_size, "out of memory converting column %s", column);
            goto fail;
        }
    }
    return 0;
fail:
    J->decref(*handed);
    *handed = NULL;
    return -1;
}

bool dbz_row_plain(const ks_config *cfg, const rdapsync_value *row_schema)
{
    const rdapsync_value *fields = J->object_get(row_schema, "fields");
    size_t n = J->type(fields) == RDAPSYNC_JSON_ARRAY ? J->array_size(fields) : 0;

    if (cfg->json_fields.count)
        return false;
    for (size_t i = 0; i < n; i++)
        if (J->object_get(J->array_get(fields, i), "name"))
            return false;
    return true;
}
