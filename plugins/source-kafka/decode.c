/*
 * One Kafka message to one record.
 *
 * json:     the value is the document (an object); a null value (tombstone)
 *           deletes the message key. Version: the rdapsync.ts_ms /
 *           rdapsync.origin / rdapsync.seq headers the kafka sink writes
 *           when present, else (message timestamp, origin option, offset).
 * debezium: the value is a change envelope, with or without the JsonConverter
 *           schema wrapper ({"schema":..,"payload":{..}}). op c/u/r upserts
 *           `after` (or its `document` column), op d deletes (key from
 *           `before` when key: value); the tombstone that follows a delete
 *           becomes a delete with the same version (or is skipped). Columns
 *           of Debezium semantic types are decoded (dbz_types.c); a row
 *           with none is split off the message as a text of its own
 *           (split_message), so that no tree is built for it. Version:
 *           ts_ms (or source.ts_ms), origin option or source.name,
 *           source.lsn (or the offset). Debezium's messages that are not row
 *           changes (heartbeats, transaction metadata, schema changes, op m,
 *           op t unless configured) add no record: they are counted in
 *           rdapsync_plugin_debezium_<kind>_total and their offset is
 *           committed with the next record of the partition.
 *
 * Anything else is a bad record (raw bytes kept) whose reason names the
 * topic, partition and offset; the partition keeps flowing.
 */
#include "source_kafka.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#define H ks_host
#define J (ks_host->json)

#define HEADER_TS "rdapsync.ts_ms"
#define HEADER_ORIGIN "rdapsync.origin"
#define HEADER_SEQ "rdapsync.seq"
#define HEADER_VV "rdapsync.vv"

/* What a message decodes to, before it is written into the batch. */
typedef struct decoded {
    const char *topic;
    const rd_kafka_message_t *msg;
    rdapsync_op op;
    rdapsync_value *value;   /* owned; NULL for deletes */
    rdapsync_value *key_doc; /* owned: the parsed message key, when key_path applies to it */
    const char *key;         /* borrowed from the message, a JSON document or `key_buf` */
    size_t key_len;
    char key_buf[32];
    int64_t event_time_ms;
    const char *origin; /* borrowed */
    char origin_buf[256];
    int64_t sequence;
    rdapsync_value *row;      /* owned: the row image whose other columns become headers */
    const char *skip_counter; /* set: not a row change, no record; the counter it adds to */
    const rdapsync_value *vv_field; /* borrowed: the envelope's vv_field member, when configured */
    rdapsync_vv_entry vv[KS_MAX_REGIONS];
    size_t vv_count;
    rdapsync_value *vv_holder; /* owned: the parsed text the vv regions point into */
    rdapsync_value *row_doc;   /* owned: `after` parsed on its own (split_message) */
    const char *row_text;      /* its bytes, in the message */
    size_t row_len;
    bool row_in_payload;       /* it was the schema wrapper's payload.after */
    char reason[768];         /* set: the record is bad */
} decoded;

static void bad(decoded *d, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);

/* The place is formatted only for bad records: most messages never need it. */
static void bad(decoded *d, const char *fmt, ...)
{
    char what[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(what, sizeof(what), fmt, args);
    va_end(args);
    snprintf(d->reason, sizeof(d->reason), "topic %s partition %d offset %" PRId64 ": %s", d->topic,
             (int)d->msg->partition, (int64_t)d->msg->offset, what);
}

/* A string or an integer member as key text (integers printed). */
static int key_from_json(decoded *d, const rdapsync_value *v)
{
    if (J->type(v) == RDAPSYNC_JSON_STRING) {
        d->key = J->string_value(v);
        d->key_len = J->string_length(v);
        return d->key_len ? 0 : -1;
    }
    if (J->type(v) == RDAPSYNC_JSON_INTEGER) {
        int n = snprintf(d->key_buf, sizeof(d->key_buf), "%" PRId64, J->integer_value(v));
        d->key = d->key_buf;
        d->key_len = (size_t)n;
        return 0;
    }
    return -1;
}

/* {"schema":..,"payload":X} -> X (borrowed); anything else unchanged. */
static rdapsync_value *unwrap(rdapsync_value *v)
{
    rdapsync_value *payload = J->object_get(v, "payload");

    if (payload && (J->object_get(v, "schema") || !J->object_get(v, "op")))
        return payload;
    return v;
}

/* The key of the message itself: raw bytes, or key_path in its JSON. */
static int message_key(ks_state *s, decoded *d)
{
    const rd_kafka_message_t *m = d->msg;
    char err[256];

    if (!m->key || m->key_len == 0) {
        bad(d, "message has no key");
        return -1;
    }
    if (!s->cfg->key_path) {
        d->key = m->key;
        d->key_len = m->key_len;
        return 0;
    }
    d->key_doc = J->parse(m->key, m->key_len, err, sizeof(err));
    if (!d->key_doc) {
        bad(d, "message key is not valid JSON: %s", err);
        return -1;
    }
    if (key_from_json(d, jpath_find(&s->key_path, unwrap(d->key_doc))) != 0) {
        bad(d, "message key has no string or integer at %s", s->cfg->key_path);
        return -1;
    }
    return 0;
}

/* True when key_path is read from the value and starts at member `column`. */
static bool key_path_enters(const ks_state *s, const char *column)
{
    const ks_path *p = &s->key_path;
    return s->cfg->key_from == KS_KEY_VALUE && p->count > 0 && p->segments[0].name &&
           strcmp(p->segments[0].name, column) == 0;
}

static int value_key(ks_state *s, decoded *d, const rdapsync_value *row)
{
    if (key_from_json(d, jpath_find(&s->key_path, (rdapsync_value *)row)) != 0) {
        bad(d, "no string or integer key at %s", s->cfg->key_path);
        return -1;
    }
    return 0;
}

static const rd_kafka_headers_t *headers_of(const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    return hdrs;
}

/* An integer header written as decimal text; false when absent or not one. */
static bool header_int(const rd_kafka_message_t *m, const char *name, int64_t *out)
{
    const rd_kafka_headers_t *hdrs = headers_of(m);
    const void *value;
    size_t len;
    char text[32], *end;

    if (!hdrs || rd_kafka_header_get_last(hdrs, name, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || !value ||
        len == 0 || len >= sizeof(text))
        return false;
    memcpy(text, value, len);
    text[len] = '\0';
    long long v = strtoll(text, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool header_text(const rd_kafka_message_t *m, const char *name, char *out, size_t out_size)
{
    const rd_kafka_headers_t *hdrs = headers_of(m);
    const void *value;
    size_t len;

    if (!hdrs || rd_kafka_header_get_last(hdrs, name, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || !value ||
        len >= out_size || memchr(value, '\0', len))
        return false;
    memcpy(out, value, len);
    out[len] = '\0';
    return true;
}

static int64_t message_time(const rd_kafka_message_t *m)
{
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(m, &type);
    return ts >= 0 ? ts : 0;
}

static void json_version(ks_state *s, decoded *d)
{
    const rd_kafka_message_t *m = d->msg;

    if (!header_int(m, HEADER_TS, &d->event_time_ms))
        d->event_time_ms = message_time(m);
    d->origin = header_text(m, HEADER_ORIGIN, d->origin_buf, sizeof(d->origin_buf)) ? d->origin_buf : s->cfg->origin;
    if (!header_int(m, HEADER_SEQ, &d->sequence))
        d->sequence = m->offset;
}

static void decode_json(ks_state *s, decoded *d, rdapsync_value *doc)
{
    if (J->type(doc) != RDAPSYNC_JSON_OBJECT) {
        bad(d, "the value is not a JSON object");
        return;
    }
    if (s->cfg->key_from == KS_KEY_VALUE ? value_key(s, d, doc) : message_key(s, d))
        return;
    json_version(s, d);
    d->op = RDAPSYNC_OP_UPSERT;
    d->value = J->incref(doc);
}

static bool is_int(const rdapsync_value *v) { return J->type(v) == RDAPSYNC_JSON_INTEGER; }

static void debezium_version(ks_state *s, decoded *d, rdapsync_value *env)
{
    rdapsync_value *source = J->object_get(env, "source");
    rdapsync_value *ts = J->object_get(env, "ts_ms");
    rdapsync_value *source_ts = J->object_get(source, "ts_ms");
    rdapsync_value *first = s->cfg->event_time == KS_TIME_SOURCE ? source_ts : ts;
    rdapsync_value *second = s->cfg->event_time == KS_TIME_SOURCE ? ts : source_ts;

    if (s->cfg->event_time != KS_TIME_MESSAGE && is_int(first))
        d->event_time_ms = J->integer_value(first);
    else if (s->cfg->event_time != KS_TIME_MESSAGE && is_int(second))
        d->event_time_ms = J->integer_value(second);
    else
        d->event_time_ms = message_time(d->msg);
    d->origin = s->cfg->origin;
    const char *name = J->string_value(J->object_get(source, "name"));
    if (!d->origin && name && strlen(name) < sizeof(d->origin_buf)) {
        strcpy(d->origin_buf, name);
        d->origin = d->origin_buf;
    }
    rdapsync_value *lsn = J->object_get(source, "lsn");
    d->sequence = s->cfg->sequence == KS_SEQUENCE_AUTO && is_int(lsn) ? J->integer_value(lsn) : d->msg->offset;
}

/* Copies what a tombstone right after this delete needs. */
static void remember_delete(ks_partition *part, const decoded *d)
{
    ks_last_delete *ld = &part->last_delete;
    const rd_kafka_message_t *m = d->msg;

    last_delete_clear(ld);
    if (!m->key || !m->key_len)
        return;
    ld->message_key = malloc(m->key_len);
    ld->key = malloc(d->key_len + 1);
    ld->origin = d->origin ? strdup(d->origin) : NULL;
    if (!ld->message_key || !ld->key || (d->origin && !ld->origin)) {
        last_delete_clear(ld);
        return;
    }
    memcpy(ld->message_key, m->key, m->key_len);
    ld->message_key_len = m->key_len;
    memcpy(ld->key, d->key, d->key_len);
    ld->key[d->key_len] = '\0';
    ld->key_len = d->key_len;
    ld->event_time_ms = d->event_time_ms;
    ld->sequence = d->sequence;
    ld->set = true;
}

/* The counter of a Debezium message that is not a row change, or NULL.
 * By schema name when the converter wrote one, else by shape. */
static const char *non_row_kind(const rdapsync_value *wrapper_schema, rdapsync_value *env)
{
    const char *schema = J->string_value(J->object_get(wrapper_schema, "name"));

    if (schema) {
        if (strcmp(schema, "io.debezium.connector.common.Heartbeat") == 0)
            return "debezium_heartbeats";
        if (strcmp(schema, "io.debezium.connector.common.TransactionMetadataValue") == 0)
            return "debezium_transactions";
        if (strstr(schema, "SchemaChangeValue"))
            return "debezium_schema_changes";
    }
    if (J->object_get(env, "op"))
        return NULL;
    if (J->object_size(env) == 1 && is_int(J->object_get(env, "ts_ms")))
        return "debezium_heartbeats";
    if (J->string_value(J->object_get(env, "status")) && J->object_get(env, "id"))
        return "debezium_transactions";
    if (J->object_get(env, "ddl") || J->object_get(env, "tableChanges"))
        return "debezium_schema_changes";
    return NULL;
}

static const char *json_type_name(const rdapsync_value *v)
{
    switch (J->type(v)) {
    case RDAPSYNC_JSON_OBJECT: return "object";
    case RDAPSYNC_JSON_ARRAY: return "array";
    case RDAPSYNC_JSON_STRING: return "string";
    case RDAPSYNC_JSON_INTEGER:
    case RDAPSYNC_JSON_REAL: return "number";
    case RDAPSYNC_JSON_BOOL: return "boolean";
    default: return "null";
    }
}

/* document: COLUMN -> d->value is that column of `row` (an object). */
static void pick_document(ks_state *s, decoded *d, rdapsync_value *row)
{
    const char *col = s->cfg->document;
    rdapsync_value *doc = J->object_get(row, col);

    if (J->type(doc) != RDAPSYNC_JSON_OBJECT) {
        bad(d, "column %s of after is %s %s, not a JSON object%s", col, doc ? "a JSON" : "absent,",
            doc ? json_type_name(doc) : "", J->type(doc) == RDAPSYNC_JSON_STRING
                ? " (a json/jsonb column read without schemas: list it in json_fields)" : "");
        return;
    }
    d->value = J->incref(doc);
    if (s->cfg->other_columns == KS_COLUMNS_HEADERS)
        d->row = J->incref(row);
}

static void decode_truncate(ks_state *s, decoded *d, rdapsync_value *env)
{
    rdapsync_value *source = J->object_get(env, "source");
    const char *table = J->string_value(J->object_get(source, "table"));

    if (s->cfg->truncate == KS_TRUNCATE_DEAD_LETTER) {
        bad(d, "TRUNCATE of table %.128s (Debezium op t): the target keeps its rows", table ? table : "?");
        return;
    }
    H->log(s->ctx, RDAPSYNC_LOG_WARN,
           "topic %s partition %d offset %" PRId64 ": TRUNCATE of table %s skipped (truncate: skip); "
           "the target keeps its rows",
           d->topic, (int)d->msg->partition, (int64_t)d->msg->offset, table ? table : "?");
    d->skip_counter = "debezium_truncates";
}

/* Member `key` of the object text[0..len) (validated) parsed on its own
 * (caller owns it); NULL when the scan does not find it or it is no object
 * (the caller then reads the row's tree, which says why). */
static rdapsync_value *member_doc(const char *text, size_t len, const char *key)
{
    const char *p;
    size_t n;
    char err[256];
    rdapsync_value *v;

    if (jscan_member(text, len, key, &p, &n, NULL) != 0)
        return NULL;
    v = J->parse(p, n, err, sizeof(err));
    if (v && J->type(v) != RDAPSYNC_JSON_OBJECT) {
        J->decref(v);
        return NULL;
    }
    return v;
}

/* How deep a message may nest (value.h, parse): `after` parsed alone must
 * stay within it together with the levels around it. */
#define JSON_MAX_DEPTH 512

/* Whether the object text[0..len) starts with member `key` (as the
 * JsonConverter writes "schema" and "payload"); a guess that only decides
 * where to look first: decode_debezium checks what the envelope is. */

/* Whether the message's row needs no conversion, from its schema wrapper's
 * schema alone. A guess, which saves splitting a message whose row is
 * converted (and so built) anyway: decode_debezium converts a split row all
 * the same when it must. The messages of a topic carry the same schema, so
 * the verdict on the last one is kept and its bytes compared. */
static bool row_plain(ks_state *s, const char *text, size_t len)
{
    const char *schema_text;
    size_t schema_len;
    char err[256];
    rdapsync_value *schema;
    bool plain;

    if (s->cfg->json_fields.count)
        return false;
    if (!jscan_first_key_is(text, len, "schema") || jscan_member(text, len, "schema", &schema_text, &schema_len, NULL) != 0)
        return true;
    if (schema_len == s->last_schema_len && memcmp(schema_text, s->last_schema, schema_len) == 0)
        return s->last_schema_plain;
    if (!(schema = J->parse(schema_text, schema_len, err, sizeof(err))))
        return false;
    plain = dbz_row_plain(s->cfg, dbz_field_schema(schema, "after"));
    J->decref(schema);
    char *copy = malloc(schema_len ? schema_len : 1);
    if (copy) { /* no memory: judged again next time */
        memcpy(copy, schema_text, schema_len);
        free(s->last_schema);
        s->last_schema = copy;
        s->last_schema_len = schema_len;
        s->last_schema_plain = plain;
    }
    return plain;
}

/*
 * A Debezium message whose row needs no conversion, in two texts: `after`
 * (an object) parsed on its own, and the rest, the "shell", with `after`
 * written as {}. The shell's `after` is never read (decode_debezium reads
 * d->row_doc instead), and `after` becomes a lazy document of its own: a
 * sink gets its bytes, no tree is built for it, and the message's bytes
 * are validated once (a member of a lazy document read as a tree, or
 * parsed again on its own, costs about twice as much). A row to convert
 * is read from the whole message's tree, as before: converting builds its
 * tree anyway.
 *
 * The two texts are valid exactly when the message is: replacing one JSON
 * value ({}) by another in a valid text gives a valid text, the keys of
 * `after` are checked in `after`, and `after` is split off only where its
 * depth plus the levels around it is within the limit. The scan's idea of
 * where strings are agrees with any parser's wherever the shell is valid,
 * since they share the shell's bytes. When either text is refused, or the
 * scan gives up, the caller parses the whole message: its verdict and its
 * `line L column C` are the answer. `after` is parsed first and the shell
 * last, so that the thread's parser holds the shell's tape when the
 * envelope's members are read.
 * NULL (nothing owned) when it does not apply; else the shell (caller owns),
 * with d->row_doc and its place set.
 */
static rdapsync_value *split_message(ks_state *s, decoded *d)
{
    const char *text = d->msg->payload, *payload, *after;
    size_t len = d->msg->len, after_len;
    int depth;
    char err[256];
    rdapsync_value *shell;

    if (s->cfg->vv_field || !row_plain(s, text, len))
        return NULL; /* vv_field may point into after: read the whole envelope */
    /* Only where the payload starts matters: the scan of its members stops
     * at its closing brace. */
    d->row_in_payload = (jscan_first_key_is(text, len, "schema") || jscan_first_key_is(text, len, "payload")) &&
                        jscan_member(text, len, "payload", &payload, NULL, NULL) == 0 && *payload == '{';
    if ((d->row_in_payload ? jscan_member(payload, len - (size_t)(payload - text), "after", &after, &after_len, &depth)
                           : jscan_member(text, len, "after", &after, &after_len, &depth)) != 0 ||
        *after != '{' || depth > JSON_MAX_DEPTH - (d->row_in_payload ? 2 : 1))
        return NULL;
    size_t shell_len = jscan_hollow(text, len, after, after_len, &s->shell, &s->shell_cap);
    if (!shell_len || !(d->row_doc = J->parse(after, after_len, err, sizeof(err))))
        return NULL;
    if (!(shell = J->parse(s->shell, shell_len, err, sizeof(err)))) {
        J->decref(d->row_doc);
        d->row_doc = NULL;
        return NULL;
    }
    d->row_text = after;
    d->row_len = after_len;
    return shell;
}

static void decode_debezium(ks_state *s, decoded *d, rdapsync_value *doc, ks_partition *part)
{
    rdapsync_value *env = unwrap(doc);
    char why[512];

    if (J->type(env) != RDAPSYNC_JSON_OBJECT) {
        bad(d, "not a Debezium envelope (not a JSON object)");
        return;
    }
    const rdapsync_value *schema = env != doc ? J->object_get(doc, "schema") : NULL;
    if ((d->skip_counter = non_row_kind(schema, env)))
        return;
    const char *op = J->string_value(J->object_get(env, "op"));
    if (!op) {
        bad(d, "not a Debezium envelope (no string op)");
        return;
    }
    if (strcmp(op, "t") == 0) {
        decode_truncate(s, d, env);
        return;
    }
    if (strcmp(op, "m") == 0) { /* pg_logical_emit_message(): not a row */
        d->skip_counter = "debezium_messages";
        return;
    }
    bool upsert = strcmp(op, "c") == 0 || strcmp(op, "u") == 0 || strcmp(op, "r") == 0;
    if (!upsert && strcmp(op, "d") != 0) {
        bad(d, "unsupported Debezium op '%.16s' (expected c, u, d, r, or t and m which are skipped)", op);
        return;
    }
    if (s->cfg->vv_field)
        d->vv_field = jpath_find(&s->vv_path, env);
    debezium_version(s, d, env);
    const char *image = upsert ? "after" : "before";
    const rdapsync_value *row_schema = schema ? dbz_field_schema(schema, image) : NULL;
    /* The split's `after` is the envelope's when the shell unwraps the way
     * the scan did; otherwise the envelope's own after (the tree) is. */
    bool split = upsert && d->row_doc && d->row_in_payload == (env != doc);
    bool plain = split && dbz_row_plain(s->cfg, row_schema);
    rdapsync_value *row = split ? d->row_doc : J->object_get(env, image);
    if (upsert && J->type(row) != RDAPSYNC_JSON_OBJECT) {
        bad(d, "Debezium op '%s' without an after object", op);
        return;
    }
    /* The document column, once converted, becomes the record's value as
     * its own document (its validated text reaches the sink), unless the
     * key is read through it. */
    const char *hand_over = upsert && s->cfg->document && !key_path_enters(s, s->cfg->document) ? s->cfg->document
                                                                                                 : NULL;
    rdapsync_value *handed = NULL;
    if (!plain && dbz_convert_row(s->cfg, row_schema, row, hand_over, &handed, why, sizeof(why)) != 0) {
        bad(d, "%s: %s", image, why);
        return;
    }
    d->value = handed; /* decode_message frees it, whatever happens below */
    if (s->cfg->key_from == KS_KEY_VALUE) {
        if (J->type(row) != RDAPSYNC_JSON_OBJECT) {
            bad(d, "Debezium delete without a before object to take key_path from");
            return;
        }
        if (value_key(s, d, row) != 0)
            return;
    } else if (message_key(s, d) != 0) {
        return;
    }
    d->op = upsert ? RDAPSYNC_OP_UPSERT : RDAPSYNC_OP_DELETE;
    /* A column of an unconverted row is a text of its own too. */
    if (upsert && s->cfg->document && plain &&
        (d->value = member_doc(d->row_text, d->row_len, s->cfg->document))) {
        if (s->cfg->other_columns == KS_COLUMNS_HEADERS)
            d->row = J->incref(row);
    } else if (d->value) {
        if (s->cfg->other_columns == KS_COLUMNS_HEADERS)
            d->row = J->incref(row);
    } else if (upsert && s->cfg->document) {
        pick_document(s, d, row);
    } else if (upsert) {
        d->value = J->incref(row);
    }
    if (!upsert)
        remember_delete(part, d);
}

/* A message without a value: a delete of its key. */
static void decode_tombstone(ks_state *s, decoded *d, ks_partition *part)
{
    const rd_kafka_message_t *m = d->msg;
    ks_last_delete *ld = &part->last_delete;

    d->op = RDAPSYNC_OP_DELETE;
    if (s->cfg->format == KS_FORMAT_DEBEZIUM && s->cfg->tombstones == KS_TOMBSTONES_SKIP) {
        d->skip_counter = "debezium_tombstones";
        return;
    }
    if (s->cfg->format == KS_FORMAT_DEBEZIUM && ld->set && m->key && m->key_len == ld->message_key_len &&
        memcmp(m->key, ld->message_key, m->key_len) == 0) {
        /* Same version as the delete it follows: a no-op for a guarded sink. */
        d->key = ld->key;
        d->key_len = ld->key_len;
        d->event_time_ms = ld->event_time_ms;
        d->origin = ld->origin;
        d->sequence = ld->sequence;
        return;
    }
    if (s->cfg->key_from == KS_KEY_VALUE) {
        bad(d, "tombstone: key_path cannot be applied to a message without a value");
        return;
    }
    if (message_key(s, d) != 0)
        return;
    if (s->cfg->format == KS_FORMAT_DEBEZIUM) {
        /* The delete it follows was read before (another owner, an earlier
         * run): the lowest time, so that it never hides a newer change. */
        d->event_time_ms = 0;
        d->origin = s->cfg->origin;
        d->sequence = m->offset;
    } else {
        json_version(s, d);
    }
}

static int copy_headers(rdapsync_batch *batch, rdapsync_record *rec, const rd_kafka_message_t *m)
{
    const rd_kafka_headers_t *hdrs = headers_of(m);
    const char *name;
    const void *value;
    size_t len;

    for (size_t i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++)
        if (H->record_add_header(batch, rec, name, value ? value : "", value ? len : 0) != 0)
            return -1;
    return 0;
}

static int write_bad(ks_state *s, rdapsync_batch *batch, rdapsync_record *rec, const decoded *d)
{
    const rd_kafka_message_t *m = d->msg;

    s->bad_records++;
    if (H->record_set_bad(batch, rec, m->payload ? m->payload : "", m->payload ? m->len : 0, d->reason) != 0)
        return -1;
    if (m->key && m->key_len)
        (void)H->record_set_key(batch, rec, m->key, m->key_len); /* a non-UTF-8 key leaves it keyless */
    (void)H->record_set_version(batch, rec, message_time(m), s->cfg->origin, m->offset);
    return 0;
}

/* The row's columns other than the document as headers: text as it is,
 * other JSON compact; null columns are left out. */
static int column_headers(ks_state *s, rdapsync_batch *batch, rdapsync_record *rec, rdapsync_value *row)
{
    for (rdapsync_value_iter *it = J->object_iter(row); it; it = J->object_iter_next(row, it)) {
        const char *name = J->object_iter_key(it);
        rdapsync_value *v = J->object_iter_value(it);
        int rc;

        if (strcmp(name, s->cfg->document) == 0 || J->type(v) == RDAPSYNC_JSON_NULL)
            continue;
        if (J->type(v) == RDAPSYNC_JSON_STRING) {
            rc = H->record_add_header(batch, rec, name, J->string_value(v), J->string_length(v));
        } else {
            size_t len;
            char *text = J->dump(v, 0, &len);
            rc = text ? H->record_add_header(batch, rec, name, text, len) : -1;
            H->free(text);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The version vector: the envelope's vv_field (an object, or its JSON
 * text: a json/jsonb column read without schemas) when configured and
 * present, else the rdapsync.vv header the kafka sink writes. A bad one
 * makes the record bad. */
static void decode_vv(decoded *d)
{
    char err[320];
    const char *what;
    int rc;

    if (J->type(d->vv_field) == RDAPSYNC_JSON_OBJECT) {
        what = "vv_field";
        rc = rdapsync_vv_from_json(J, d->vv_field, d->vv, KS_MAX_REGIONS, &d->vv_count, err, sizeof(err));
    } else if (J->type(d->vv_field) == RDAPSYNC_JSON_STRING) {
        what = "vv_field";
        rc = rdapsync_vv_parse(J, J->string_value(d->vv_field), J->string_length(d->vv_field), d->vv,
                               KS_MAX_REGIONS, &d->vv_count, &d->vv_holder, err, sizeof(err));
    } else if (d->vv_field && J->type(d->vv_field) != RDAPSYNC_JSON_NULL) {
        bad(d, "vv_field is a JSON %s, not a version vector", json_type_name(d->vv_field));
        return;
    } else {
        const rd_kafka_headers_t *hdrs = headers_of(d->msg);
        const void *value;
        size_t len;
        if (!hdrs || rd_kafka_header_get_last(hdrs, HEADER_VV, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            !value)
            return;
        what = "header " HEADER_VV;
        rc = rdapsync_vv_parse(J, value, len, d->vv, KS_MAX_REGIONS, &d->vv_count, &d->vv_holder, err,
                               sizeof(err));
    }
    if (rc != 0)
        bad(d, "%s: %s", what, err);
}

int decode_message(ks_state *s, rdapsync_batch *batch, const rd_kafka_message_t *msg, ks_partition *part)
{
    char err[256];
    decoded d;
    rdapsync_value *doc = NULL;
    rdapsync_record *rec;
    int rc = -1;

    memset(&d, 0, sizeof(d));
    d.msg = msg;
    d.topic = rd_kafka_topic_name(msg->rkt);
    part->delivered = msg->offset + 1;

    if (!msg->payload) {
        decode_tombstone(s, &d, part);
    } else if (s->cfg->format == KS_FORMAT_DEBEZIUM && (doc = split_message(s, &d))) {
        decode_debezium(s, &d, doc, part);
    } else if (!(doc = J->parse(msg->payload, msg->len, err, sizeof(err)))) {
        bad(&d, "not valid JSON: %s", err);
    } else if (s->cfg->format == KS_FORMAT_DEBEZIUM) {
        decode_debezium(s, &d, doc, part);
    } else {
        decode_json(s, &d, doc);
    }

    if (!d.reason[0] && !d.skip_counter && s->cfg->skip_origins.count &&
        origin_skipped(&s->cfg->skip_origins, d.origin))
        d.skip_counter = ORIGIN_SKIP_COUNTER;
    if (!d.reason[0] && !d.skip_counter)
        decode_vv(&d);
    if (d.skip_counter && !d.reason[0]) {
        /* No record: committed with the next record of the partition, or
         * after the last one (partitions_commit); one read again after a
         * restart is skipped again. */
        H->counter_add(s->ctx, d.skip_counter, 1);
        rc = 0;
        goto done;
    }
    rec = H->record_add(batch);
    if (!rec || H->record_set_position(batch, rec, d.topic, msg->partition, msg->offset + 1) != 0)
        goto done;
    part->recorded = msg->offset + 1;
    if (copy_headers(batch, rec, msg) != 0)
        goto done;
    int64_t produced = message_time(msg);
    if (produced > 0)
        (void)stamps_push(&part->stamps, msg->offset + 1, produced); /* no memory: one sample fewer */

    if (d.reason[0]) {
        rc = write_bad(s, batch, rec, &d) == 0 ? 1 : -1;
        goto done;
    }
    if (H->record_set_key(batch, rec, d.key, d.key_len) != 0) {
        bad(&d, "the key is not valid UTF-8");
        rc = write_bad(s, batch, rec, &d) == 0 ? 1 : -1;
        goto done;
    }
    if (d.row && column_headers(s, batch, rec, d.row) != 0)
        goto done;
    if (H->record_set_op(batch, rec, d.op) != 0 ||
        H->record_set_version(batch, rec, d.event_time_ms, d.origin, d.sequence) != 0)
        goto done;
    if (d.vv_count && RDAPSYNC_HAS(rdapsync_host, H, record_set_vv) &&
        H->record_set_vv(batch, rec, d.vv, d.vv_count) != 0)
        goto done;
    rc = H->record_set_value(batch, rec, d.value) == 0 ? 1 : -1; /* steals */
    d.value = NULL;
done:
    J->decref(d.vv_holder);
    J->decref(d.value);
    J->decref(d.row);
    J->decref(d.key_doc);
    J->decref(d.row_doc);
    J->decref(doc);
    return rc;
}
