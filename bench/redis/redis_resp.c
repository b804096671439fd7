/*
 * redis_resp PREFIX < envelopes.jsonl > sets.resp: one RESP
 * "SET <PREFIX><key> <value as compact JSON>" per upsert envelope, for
 * redis-cli --pipe (bench/redis/run.sh's baseline). The value is
 * re-serialized compactly in its original member order, as the sink stores
 * it. Exit 0, or 1 for a line that is not an envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void bulk(const char *bytes, size_t len)
{
    printf("$%zu\r\n", len);
    fwrite(bytes, 1, len, stdout);
    fputs("\r\n", stdout);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: redis_resp PREFIX < envelopes.jsonl\n");
        return 1;
    }
    const char *prefix = argv[1];
    char *line = NULL, *key = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        n++;
        json_error_t error;
        json_t *env = json_loadb(line, (size_t)len, 0, &error);
        json_t *k = env ? json_object_get(env, "key") : NULL, *v = env ? json_object_get(env, "value") : NULL;
        if (!json_is_string(k)) {
            fprintf(stderr, "redis_resp: line %zu: not an envelope with a key\n", n);
            return 1;
        }
        if (v && !json_is_null(v)) {
            char *doc = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            size_t klen = strlen(prefix) + json_string_length(k);
            key = realloc(key, klen);
            if (!doc || !key)
                return 1;
            memcpy(key, prefix, strlen(prefix));
            memcpy(key + strlen(prefix), json_string_value(k), json_string_length(k));
            fputs("*3\r\n", stdout);
            bulk("SET", 3);
            bulk(key, klen);
            bulk(doc, strlen(doc));
            free(doc);
        }
        json_decref(env);
    }
    free(line);
    free(key);
    return 0;
}
