/*
 * redis_resp PREFIX [CHUNK|noop|small|vguard] < envelopes.jsonl > commands.resp:
 * one RESP "SET <PREFIX><key> <value as compact JSON>" per upsert
 * envelope, for redis-cli --pipe (bench/redis/run.sh's baseline). With
 * CHUNK, the same SETs run by a bare Lua loop instead, CHUNK per EVAL: what
 * passing the documents through a script costs before any guard. With
 * "noop", one EVAL of a script that does nothing per document, the
 * document its one argument; with "small", the same with a 2-byte argument
 * instead: the two tell what handing a document to a script costs by
 * itself. With "vguard", the plain SETs again, and per 64 of them one EVAL
 * that only compares and sets a version key per document (GET, compare,
 * SET): less than any correct guard does (it is not even atomic with the
 * document's write), so the least a script-guarded sink costs the server. The value is
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

static const char loop[] = "for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[i]) end return 1";
static const char noop[] = "return 1";
static const char vguard[] = "for i, k in ipairs(KEYS) do local old = redis.call('GET', k) "
                             "if not old or old < ARGV[i] then redis.call('SET', k, ARGV[i]) end end return 1";
static int vguard_mode;
static size_t versions;

/* The pending chunk: keys and documents, owned. */
static char *keys[1024], *docs[1024];
static size_t key_lens[1024], pending;

static void flush_chunk(void)
{
    if (pending == 0)
        return;
    char count[24];
    snprintf(count, sizeof(count), "%zu", pending);
    if (vguard_mode) {
        for (size_t i = 0; i < pending; i++) {
            fputs("*3\r\n", stdout);
            bulk("SET", 3);
            bulk(keys[i], key_lens[i]);
            bulk(docs[i], strlen(docs[i]));
        }
        printf("*%zu\r\n", 3 + 2 * pending);
        bulk("EVAL", 4);
        bulk(vguard, strlen(vguard));
        bulk(count, strlen(count));
        for (size_t i = 0; i < pending; i++) {
            printf("$%zu\r\n", key_lens[i] + 3);
            fwrite(keys[i], 1, key_lens[i], stdout);
            fwrite("\0v:\r\n", 1, 5, stdout);
        }
        for (size_t i = 0; i < pending; i++) {
            char version[40];
            snprintf(version, sizeof(version), "%032zx", ++versions);
            bulk(version, strlen(version));
            free(keys[i]);
            free(docs[i]);
        }
        pending = 0;
        return;
    }
    printf("*%zu\r\n", 3 + 2 * pending);
    bulk("EVAL", 4);
    bulk(loop, strlen(loop));
    bulk(count, strlen(count));
    for (size_t i = 0; i < pending; i++)
        bulk(keys[i], key_lens[i]);
    for (size_t i = 0; i < pending; i++) {
        bulk(docs[i], strlen(docs[i]));
        free(keys[i]);
        free(docs[i]);
    }
    pending = 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: redis_resp PREFIX [CHUNK|noop|small|vguard] < envelopes.jsonl\n");
        return 1;
    }
    const char *prefix = argv[1];
    int noop_arg = argc == 3 && strcmp(argv[2], "noop") == 0, small_arg = argc == 3 && strcmp(argv[2], "small") == 0;
    vguard_mode = argc == 3 && strcmp(argv[2], "vguard") == 0;
    size_t chunk = vguard_mode ? 64 : argc == 3 && !noop_arg && !small_arg ? strtoul(argv[2], NULL, 10) : 0;
    if (argc == 3 && !noop_arg && !small_arg && (chunk < 1 || chunk > 1024)) {
        fprintf(stderr, "redis_resp: CHUNK must be 1 to 1024, or noop, small, vguard\n");
        return 1;
    }
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
            if (noop_arg || small_arg) {
                fputs("*5\r\n", stdout);
                bulk("EVAL", 4);
                bulk(noop, strlen(noop));
                bulk("1", 1);
                bulk(key, klen);
                bulk(small_arg ? "{}" : doc, small_arg ? 2 : strlen(doc));
                free(doc);
                json_decref(env);
                continue;
            }
            if (chunk) {
                keys[pending] = key;
                key_lens[pending] = klen;
                docs[pending++] = doc;
                key = NULL;
                if (pending == chunk)
                    flush_chunk();
                json_decref(env);
                continue;
            }
            fputs("*3\r\n", stdout);
            bulk("SET", 3);
            bulk(key, klen);
            bulk(doc, strlen(doc));
            free(doc);
        }
        json_decref(env);
    }
    flush_chunk();
    free(line);
    free(key);
    return 0;
}
