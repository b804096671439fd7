/*
 * The normalize transform: RDAP responses of every object class, bare or in
 * a change envelope, become one unified shape per class
 * (docs/unified-shape.md, docs/plugins/transform-normalize.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

#include "envelope.h"
#include "unified.h"

static const rdapsync_host *H;

enum key_from { KEY_HANDLE = 0, KEY_LDH_NAME = 1, KEY_KEEP = 2 };
enum error_value { ERROR_VALUE_KEEP = 0, ERROR_VALUE_CLEAR = 1 };

struct config {
    int key;
    bool raw;
    int64_t max_depth;
    int64_t max_string;
    int error_value;
    bool schema_version;
};

static const char *const key_values[] = {"handle", "ldh_name", "keep", NULL};
static const char *const error_values[] = {"keep", "clear", NULL};

static const rdapsync_option options[] = {
    {"key", RDAPSYNC_OPT_ENUM, 0, "handle", 0, 0, key_values, offsetof(struct config, key),
     "record key: the handle (else the ldhName), the ldhName (else the handle), or keep the source's key"},
    {"raw", RDAPSYNC_OPT_BOOL, 0, "false", 0, 0, NULL, offsetof(struct config, raw),
     "keep the original RDAP document under the \"raw\" member"},
    {"max_depth", RDAPSYNC_OPT_INT, 0, "32", 4, 512, NULL, offsetof(struct config, max_depth),
     "deepest nesting of arrays and objects accepted; deeper records are errors"},
    {"max_string", RDAPSYNC_OPT_SIZE, 0, "64K", 64, 64 * 1024 * 1024, NULL, offsetof(struct config, max_string),
     "longest string accepted; records with a longer one are errors"},
    {"error_value", RDAPSYNC_OPT_ENUM, 0, "keep", 0, 0, error_values, offsetof(struct config, error_value),
     "a record that fails goes to the dead-letter sink with its document (keep) or without it (clear: nothing of "
     "the input leaves the pipeline; the position still names it)"},
    {"schema_version", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, offsetof(struct config, schema_version),
     "stamp the shape's version as _schemaVersion in the document and the header rdapsync.schema_version"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct instance {
    rdapsync_ctx *ctx;
    const struct config *config;
    unified_options unified;
} instance;

static rdapsync_status normalize_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                      size_t err_size)
{
    const struct config *c = config;
    instance *s = calloc(1, sizeof *s);

    (void)err;
    (void)err_size;
    if (!s)
        return RDAPSYNC_RETRY;
    s->ctx = ctx;
    s->config = c;
    s->unified.keep_raw = c->raw;
    s->unified.max_depth = (int)c->max_depth;
    s->unified.max_string = (size_t)c->max_string;
    *state = s;
    return RDAPSYNC_OK;
}

static void normalize_close(void *state)
{
    free(state);
}

static rdapsync_status record_failed(instance *s, rdapsync_batch *batch, rdapsync_record *record)
{
    H->counter_add(s->ctx, "normalize_errors", 1);
    if (s->config->error_value == ERROR_VALUE_CLEAR)
        H->record_set_value(batch, record, NULL);
    return RDAPSYNC_ERROR;
}

/* Applies what an envelope says about the record; 0 or -1 (allocation). */
static int apply_envelope(rdapsync_batch *batch, rdapsync_record *record, const envelope *env)
{
    if (env->key && H->record_set_key(batch, record, env->key, env->key_len) != 0)
        return -1;
    if (env->has_version &&
        H->record_set_version(batch, record, env->ts_ms, env->origin,
                              env->has_seq ? env->seq : record->version.sequence) != 0)
        return -1;
    if (env->op == RDAPSYNC_OP_DELETE) {
        if (H->record_set_op(batch, record, RDAPSYNC_OP_DELETE) != 0)
            return -1;
        return H->record_set_value(batch, record, NULL);
    }
    return 0;
}

static const char *header_text(const rdapsync_record *record, const char *name)
{
    const rdapsync_header *h = H->record_header(record, name);
    return h && h->value_len ? h->value : NULL;
}

/* _schemaVersion in the document and the rdapsync.schema_version header;
 * 0 or -1 (allocation). */
static int stamp_version(rdapsync_batch *batch, rdapsync_record *record, rdapsync_value *doc)
{
    const rdapsync_json_api *j = H->json;
    const char *v = UNIFIED_SCHEMA_VERSION;

    if (j->object_set(doc, "_schemaVersion", j->string_new(v, strlen(v))) != 0)
        return -1;
    return H->record_add_header(batch, record, "rdapsync.schema_version", v, strlen(v));
}

static rdapsync_status normalize_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                           size_t err_size)
{
    instance *s = state;
    const rdapsync_json_api *j = H->json;
    rdapsync_value *doc = record->value, *out;
    envelope env;
    unified_source source;
    const char *key;

    if (!doc)
        return RDAPSYNC_OK; /* deletes carry no document */
    if (envelope_read(j, doc, &env, err, err_size) != 0)
        return record_failed(s, batch, record);
    if (env.present) {
        rdapsync_value *inner = j->incref(env.value);
        if (apply_envelope(batch, record, &env) != 0) {
            j->decref(inner);
            return RDAPSYNC_RETRY;
        }
        if (env.op == RDAPSYNC_OP_DELETE) {
            j->decref(inner);
            return RDAPSYNC_OK;
        }
        if (H->record_set_value(batch, record, inner) != 0)
            return RDAPSYNC_RETRY;
        doc = record->value;
    }
    if (unified_is_unified(j, doc))
        return RDAPSYNC_OK; /* replays of already normalized records */
    source.fetched_at = header_text(record, "rdapsync.fetched_at");
    source.server = header_text(record, "rdapsync.server");
    source.origin = record->version.origin;
    out = unified_build(j, doc, &s->unified, &source, err, err_size);
    if (!out)
        return record_failed(s, batch, record);
    key = s->config->key == KEY_KEEP ? NULL : unified_key(j, out, s->config->key == KEY_LDH_NAME);
    if (key && H->record_set_key(batch, record, key, strlen(key)) != 0) {
        j->decref(out);
        return RDAPSYNC_RETRY;
    }
    if (s->config->schema_version && stamp_version(batch, record, out) != 0) {
        j->decref(out);
        return RDAPSYNC_RETRY;
    }
    if (H->record_set_value(batch, record, out) != 0)
        return RDAPSYNC_RETRY;
    H->counter_add(s->ctx, "normalized", 1);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "normalize",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "RDAP responses of every object class to one unified, documented shape",
    .options = options,
    .config_size = sizeof(struct config),
    .open = normalize_open,
    .close = normalize_close,
    .transform = normalize_transform,
    /* Each call reads the instance and changes only its own record. */
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
