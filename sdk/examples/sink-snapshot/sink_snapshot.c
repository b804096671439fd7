/*
 * sink-snapshot: a keyed, version-guarded sink on the SDK's keyed-sink
 * toolkit (rdapsync/sinktk.h), built out of the tree against an installed
 * rdapsync. It keeps the state of every key (its greatest version, and its
 * document or a tombstone) in one JSON-lines file, `path`, replaced
 * atomically by every write:
 *
 *   {"key":"example.com","version":"800001...00","doc":{"handle":"..."}}
 *   {"key":"gone.example","version":"800001...01","doc":null}
 *
 * "version" is the byte-sortable key of the record's version
 * (rdapsync_version_key) in hex: two of them compare as strings the way
 * the versions compare. The toolkit plans each batch (greatest version per
 * key, older ones as fallbacks, keyless records rejected), reconnects after
 * a RETRY and reports rejects and counters; this file only says how to load
 * the file, how to apply rows to it and which keys it refuses. The whole
 * file is rewritten per write: fine for an example, not for millions of
 * keys. Walk-through: docs/plugin-guide.md, "The keyed-sink toolkit".
 */
/* fsync(), fileno(): POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdapsync/sinktk.h>

static const rdapsync_host *H;

struct snapshot_config {
    char *path;
    int64_t max_key_bytes;
};

static const rdapsync_option snapshot_options[] = {
    { RDAPSYNC_OPTION_STRING(struct snapshot_config, path, NULL, "the JSON-lines file holding every key's state"),
      .flags = RDAPSYNC_OPT_REQUIRED },
    { RDAPSYNC_OPTION_SIZE(struct snapshot_config, max_key_bytes, "0", 0, INT64_C(1) << 20,
                           "records with a longer key are rejected (dead-lettered); 0: no limit") },
    RDAPSYNC_OPTIONS_END,
};

/* One key's state. All owned; doc is host->json->dump() text (host->free). */
struct entry {
    char *key;
    char *version; /* hex of the version key, NUL-terminated */
    char *doc;     /* NULL: a tombstone */
};

struct snapshot {
    rdapsync_ctx *ctx;
    const struct snapshot_config *cfg;
    rdapsync_sinktk_writer writer;
    struct entry *entries; /* the file's content while connected */
    size_t count, capacity;
};

static void entry_free(struct entry *e)
{
    free(e->key);
    free(e->version);
    H->free(e->doc);
}

static struct entry *find(struct snapshot *s, const char *key)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}

/* Takes ownership of the three strings, also on failure. 0 or -1. */
static int put(struct snapshot *s, char *key, char *version, char *doc)
{
    struct entry *e = find(s, key);
    if (!e && s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 64;
        struct entry *grown = realloc(s->entries, capacity * sizeof(*grown));
        if (!grown) {
            entry_free(&(struct entry){ key, version, doc });
            return -1;
        }
        s->entries = grown;
        s->capacity = capacity;
    }
    if (e)
        entry_free(e);
    else
        e = &s->entries[s->count++];
    *e = (struct entry){ key, version, doc };
    return 0;
}

/* The version key in hex; caller frees. */
static char *version_hex(const rdapsync_version *v)
{
    size_t len = rdapsync_version_key(v, NULL, 0);
    unsigned char *key = malloc(len);
    char *hex = malloc(2 * len + 1);
    if (key && hex) {
        rdapsync_version_key(v, key, len);
        for (size_t i = 0; i < len; i++)
            snprintf(hex + 2 * i, 3, "%02x", key[i]);
    } else {
        free(hex);
        hex = NULL;
    }
    free(key);
    return hex;
}

/* ---- the file ---- */

static int write_text(const char *bytes, size_t len, void *opaque)
{
    return fwrite(bytes, 1, len, opaque) == len ? 0 : -1;
}

/* Replaces the file: a temporary file, fsync, rename. */
static rdapsync_status save(struct snapshot *s, char *err, size_t err_size)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", s->cfg->path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        return RDAPSYNC_RETRY;
    }
    int rc = 0;
    for (size_t i = 0; i < s->count && rc == 0; i++) {
        const struct entry *e = &s->entries[i];
        rc = fputs("{\"key\":", f) < 0 || rdapsync_sinktk_json_string(H, e->key, strlen(e->key), write_text, f) ||
             fprintf(f, ",\"version\":\"%s\",\"doc\":%s}\n", e->version, e->doc ? e->doc : "null") < 0;
    }
    rc = rc || fflush(f) != 0 || fsync(fileno(f)) != 0;
    rc = fclose(f) != 0 || rc;
    if (rc || rename(tmp, s->cfg->path) != 0) {
        snprintf(err, err_size, "%s: %s", s->cfg->path, strerror(errno));
        remove(tmp);
        return RDAPSYNC_RETRY;
    }
    return RDAPSYNC_OK;
}

/* One line of the file into the entries. 0, or -1 when it is not one of
 * ours or memory ran out. */
static int load_line(struct snapshot *s, const char *line, size_t len)
{
    char err[128];
    if (len > 0 && line[len - 1] == '\n')
        len--;
    rdapsync_value *v = H->json->parse(line, len, err, sizeof(err));
    if (!v)
        return -1;
    const rdapsync_value *key = H->json->object_get(v, "key");
    const rdapsync_value *version = H->json->object_get(v, "version");
    const rdapsync_value *doc = H->json->object_get(v, "doc");
    int rc = -1;
    if (H->json->type(key) == RDAPSYNC_JSON_STRING && H->json->type(version) == RDAPSYNC_JSON_STRING && doc) {
        bool tombstone = H->json->type(doc) == RDAPSYNC_JSON_NULL;
        char *k = strdup(H->json->string_value(key));
        char *ver = strdup(H->json->string_value(version));
        char *d = tombstone ? NULL : H->json->dump(doc, 0, NULL);
        if (k && ver && (tombstone || d))
            rc = put(s, k, ver, d); /* takes the three, also when it fails */
        else
            entry_free(&(struct entry){ k, ver, d });
    }
    H->json->decref(v);
    return rc;
}

/* ---- the store's operations ---- */

static void store_disconnect(void *store)
{
    struct snapshot *s = store;
    for (size_t i = 0; i < s->count; i++)
        entry_free(&s->entries[i]);
    free(s->entries);
    s->entries = NULL;
    s->count = s->capacity = 0;
}

/* "Connecting" reads the file: after a failed write the toolkit drops the
 * session, and the next write starts again from what is durable. */
static rdapsync_status store_connect(void *store, bool first, char *err, size_t err_size)
{
    struct snapshot *s = store;
    (void)first;
    FILE *f = fopen(s->cfg->path, "r");
    if (!f && errno == ENOENT)
        return RDAPSYNC_OK;
    if (!f) {
        snprintf(err, err_size, "%s: %s", s->cfg->path, strerror(errno));
        return RDAPSYNC_RETRY;
    }
    char *line = NULL;
    size_t size = 0, number = 0;
    ssize_t len;
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && (len = getline(&line, &size, f)) > 0) {
        number++;
        if (load_line(s, line, (size_t)len) != 0) {
            snprintf(err, err_size, "%s:%zu: not a snapshot line (or out of memory)", s->cfg->path, number);
            status = RDAPSYNC_ERROR;
        }
    }
    free(line);
    fclose(f);
    if (status != RDAPSYNC_OK)
        store_disconnect(s);
    return status;
}

/* The version guard, then the file. A key the sink refuses is rejected
 * and its next older version in the batch tried, as the toolkit asks. */
static rdapsync_status store_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                                   rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    struct snapshot *s = store;
    for (size_t i = 0; i < plan->count;) {
        const rdapsync_record *r = plan->rows[i].record;
        if (s->cfg->max_key_bytes && r->key_len > (size_t)s->cfg->max_key_bytes) {
            if (rdapsync_sinktk_rejects_add(rejects, r, "key of %zu bytes is longer than max_key_bytes %lld",
                                            r->key_len, (long long)s->cfg->max_key_bytes) != 0)
                goto oom;
            if (!rdapsync_sinktk_plan_fallback(plan, i))
                i++;
            continue;
        }
        char *version = version_hex(&r->version);
        if (!version)
            goto oom;
        const struct entry *held = find(s, r->key);
        if (held && strcmp(held->version, version) >= 0) {
            free(version);
            tally->stale++;
            i++;
            continue;
        }
        char *key = strdup(r->key);
        char *doc = r->op == RDAPSYNC_OP_DELETE ? NULL : H->json->dump(r->value, 0, NULL);
        if (!key || (r->op != RDAPSYNC_OP_DELETE && !doc)) {
            entry_free(&(struct entry){ key, version, doc });
            goto oom;
        }
        if (put(s, key, version, doc) != 0)
            goto oom;
        tally->applied++;
        i++;
    }
    return save(s, err, err_size);
oom:
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

/* No transactions: each write is durable when apply returns. */
static const rdapsync_sinktk_store_ops snapshot_store = {
    .connect = store_connect,
    .disconnect = store_disconnect,
    .apply = store_apply,
};

/* ---- the plugin ---- */

static rdapsync_status snapshot_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                     size_t err_size)
{
    struct snapshot *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = config;
    rdapsync_sinktk_writer_config writer = {
        .host = H, .ctx = ctx, .ops = &snapshot_store, .store = s, .label = "snapshot sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
    };
    rdapsync_status status = rdapsync_sinktk_writer_open(&s->writer, &writer, err, err_size);
    if (status != RDAPSYNC_OK) {
        free(s);
        return status;
    }
    *state = s;
    return RDAPSYNC_OK;
}

static void snapshot_close(void *state)
{
    struct snapshot *s = state;
    rdapsync_sinktk_writer_close(&s->writer);
    free(s);
}

static rdapsync_status snapshot_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_write(&((struct snapshot *)state)->writer, batch, err, err_size);
}

static rdapsync_status snapshot_flush(void *state, char *err, size_t err_size)
{
    return rdapsync_sinktk_writer_flush(&((struct snapshot *)state)->writer, err, err_size);
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "snapshot",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "every key's greatest version in one JSON-lines file (keyed-sink toolkit example)",
    .options = snapshot_options,
    .config_size = sizeof(struct snapshot_config),
    .open = snapshot_open,
    .close = snapshot_close,
    .write = snapshot_write,
    .flush = snapshot_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
