/*
 * canon-jsonl [FILE]: the canonical form of a database's exported state,
 * the form of rdapgen's --expected file (docs/generator.md):
 *
 *   {"key":K,"ts_ms":N,"origin":S,"seq":N,"value":V}
 *
 * one line per key, sorted by key bytes, V serialized by jansson with
 * JSON_COMPACT | JSON_SORT_KEYS, exactly as rdapgen does. The input is
 * JSON lines with those five members in any order and formatting (blank
 * lines ignored). Integers stay integers and reals reals: a database that
 * turned one into the other gives different bytes, which is the point.
 * Exit 0; 1 for a line that is not such an object or a key seen twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct line {
    char *key;
    size_t key_len;
    char *text; /* the canonical line, without newline */
} line;

static int fail(const char *where, size_t n, const char *why)
{
    fprintf(stderr, "canon-jsonl: %s:%zu: %s\n", where, n, why);
    return -1;
}

static int key_order(const void *pa, const void *pb)
{
    const line *a = pa, *b = pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    return a->key_len == b->key_len ? 0 : (a->key_len < b->key_len ? -1 : 1);
}

/* Builds the canonical text of one parsed line. */
static int canonical(json_t *obj, line *out, const char *where, size_t n)
{
    json_t *key = json_object_get(obj, "key"), *ts = json_object_get(obj, "ts_ms");
    json_t *origin = json_object_get(obj, "origin"), *seq = json_object_get(obj, "seq");
    json_t *value = json_object_get(obj, "value");
    if (!json_is_string(key) || !json_is_integer(ts) || !json_is_string(origin) || !json_is_integer(seq) || !value)
        return fail(where, n, "needs a string key and origin, integer ts_ms and seq, and a value");
    if (json_object_size(obj) != 5)
        return fail(where, n, "has members other than key, ts_ms, origin, seq, value");
    char *k = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY);
    char *o = json_dumps(origin, JSON_COMPACT | JSON_ENCODE_ANY);
    char *v = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    int rc = -1;
    if (k && o && v) {
        size_t size = strlen(k) + strlen(o) + strlen(v) + 96;
        out->text = malloc(size);
        out->key_len = json_string_length(key);
        out->key = malloc(out->key_len + 1);
        if (out->text && out->key) {
            memcpy(out->key, json_string_value(key), out->key_len + 1);
            snprintf(out->text, size, "{\"key\":%s,\"ts_ms\":%" JSON_INTEGER_FORMAT ",\"origin\":%s,\"seq\":%"
                     JSON_INTEGER_FORMAT ",\"value\":%s}", k, json_integer_value(ts), o, json_integer_value(seq), v);
            rc = 0;
        }
    }
    free(k);
    free(o);
    free(v);
    return rc == 0 ? 0 : fail(where, n, "out of memory");
}

int main(int argc, char **argv)
{
    const char *where = argc > 1 ? argv[1] : "-";
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (argc > 2 || !in) {
        fprintf(stderr, "usage: canon-jsonl [FILE]\n");
        return 2;
    }
    line *lines = NULL;
    size_t count = 0, capacity = 0, n = 0, cap = 0;
    char *buf = NULL;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&buf, &cap, in)) >= 0) {
        n++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0)
            continue;
        json_error_t jerr;
        json_t *obj = json_loadb(buf, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(obj)) {
            rc = fail(where, n, obj ? "not a JSON object" : jerr.text);
            json_decref(obj);
            break;
        }
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 1024;
            line *grown = realloc(lines, capacity * sizeof(*lines));
            if (!grown) {
                json_decref(obj);
                rc = fail(where, n, "out of memory");
                break;
            }
            lines = grown;
        }
        memset(&lines[count], 0, sizeof(lines[count]));
        rc = canonical(obj, &lines[count], where, n);
        count++;
        json_decref(obj);
    }
    free(buf);
    if (in != stdin)
        fclose(in);
    if (rc == 0) {
        if (count > 1)
            qsort(lines, count, sizeof(*lines), key_order);
        for (size_t i = 1; i < count && rc == 0; i++)
            if (key_order(&lines[i - 1], &lines[i]) == 0) {
                fprintf(stderr, "canon-jsonl: %s: key \"%.80s\" appears twice\n", where, lines[i].key);
                rc = -1;
            }
    }
    for (size_t i = 0; i < count; i++) {
        if (rc == 0)
            printf("%s\n", lines[i].text);
        free(lines[i].key);
        free(lines[i].text);
    }
    free(lines);
    if (fflush(stdout) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}
