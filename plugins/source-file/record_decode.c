/*
 * One input record (a line, or a whole document file) to one rdapsync
 * record. A JSON object with "op" and "key" is a change envelope; any other
 * object is a raw RDAP document. Everything else is bad input, kept with
 * its raw bytes and a reason naming FILE:LINE.
 */
#include "source_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#include "jscan.h"

#define H source_file_host
#define J (source_file_host->json)

/* Makes `rec` (position already set) the bad record of FILE:LINE, or of
 * FILE:LINE:COLUMN when the column is known (not 0). */
static int mark_bad_at(source_state *s, rdapsync_batch *batch, rdapsync_record *rec, const input_file *file,
                       const char *bytes, size_t len, int64_t line, int64_t column, const char *why)
{
    char reason[1024], key[512];
    int n = snprintf(key, sizeof(key), "%s:%" PRId64, file->stream, line);

    if (n < 0 || (size_t)n >= sizeof(key))
        n = (int)strlen(key);
    if (column > 0)
        snprintf(reason, sizeof(reason), "%s:%" PRId64 ":%" PRId64 ": %s", file->stream, line, column, why);
    else
        snprintf(reason, sizeof(reason), "%s:%" PRId64 ": %s", file->stream, line, why);
    s->bad_records++;
    if (H->record_set_bad(batch, rec, bytes, len, reason) != 0)
        return -1;
    (void)H->record_set_key(batch, rec, key, (size_t)n); /* a non-UTF-8 file name leaves it keyless */
    (void)H->record_set_version(batch, rec, 0, NULL, line);
    return 0;
}

static int mark_bad(source_state *s, rdapsync_batch *batch, rdapsync_record *rec, const input_file *file,
                    const char *bytes, size_t len, int64_t line, const char *why)
{
    return mark_bad_at(s, batch, rec, file, bytes, len, line, 0, why);
}

int decode_bad(source_state *s, rdapsync_batch *batch, const input_file *file, const char *bytes, size_t len,
               int64_t line, int64_t next_offset, const char *why)
{
    rdapsync_record *rec = H->record_add(batch);

    if (!rec || H->record_set_position(batch, rec, file->stream, -1, next_offset) != 0)
        return -1;
    s->last_added = rec;
    return mark_bad(s, batch, rec, file, bytes, len, line, why);
}

/* The record key as text: a string member, or an integer printed. */
static const char *key_text(const rdapsync_value *v, char *buf, size_t buf_size, size_t *len)
{
    if (J->type(v) == RDAPSYNC_JSON_STRING) {
        *len = J->string_length(v);
        return J->string_value(v);
    }
    if (J->type(v) == RDAPSYNC_JSON_INTEGER) {
        int n = snprintf(buf, buf_size, "%" PRId64, J->integer_value(v));
        *len = (size_t)n;
        return buf;
    }
    return NULL;
}

/* eventDate of the "last changed" event, in ms; 0 when there is none. */
static int64_t last_changed_ms(const rdapsync_value *doc)
{
    const rdapsync_value *events = J->object_get(doc, "events");
    size_t n = J->array_size(events);
    int64_t ms = 0;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_value *event = J->array_get(events, i);
        const char *action = J->string_value(J->object_get(event, "eventAction"));
        if (action && strcmp(action, "last changed") == 0 &&
            rfc3339_to_ms(J->string_value(J->object_get(event, "eventDate")), &ms) == 0)
            return ms;
    }
    return 0;
}

static int add_headers(rdapsync_batch *batch, rdapsync_record *rec, rdapsync_value *headers)
{
    for (rdapsync_value_iter *it = J->object_iter(headers); it; it = J->object_iter_next(headers, it)) {
        const char *name = J->object_iter_key(it);
        rdapsync_value *v = J->object_iter_value(it);
        size_t count = J->type(v) == RDAPSYNC_JSON_ARRAY ? J->array_size(v) : 1;
        for (size_t i = 0; i < count; i++) {
            rdapsync_value *item = J->type(v) == RDAPSYNC_JSON_ARRAY ? J->array_get(v, i) : v;
            if (J->type(item) != RDAPSYNC_JSON_STRING)
                continue;
            if (H->record_add_header(batch, rec, name, J->string_value(item), J->string_length(item)) != 0)
                return -1;
        }
    }
    return 0;
}

/* Where the envelope's "vv" member starts: *line_delta newlines into
 * `bytes` (0 for a JSONL line), at *column (1-based, in bytes; 0 when not
 * found). The first `"vv"` followed by a colon: a document member of that
 * name inside "value" comes later in what rdapgen and the file sink write. */
static void vv_place(const char *bytes, size_t len, int64_t *line_delta, int64_t *column)
{
    size_t line_start = 0;

    *line_delta = 0;
    *column = 0;
    for (size_t i = 0; i + 4 <= len; i++) {
        if (bytes[i] == '\n') {
            (*line_delta)++;
            line_start = i + 1;
        }
        if (memcmp(bytes + i, "\"vv\"", 4) != 0)
            continue;
        size_t j = i + 4;
        while (j < len && (bytes[j] == ' ' || bytes[j] == '\t' || bytes[j] == '\r' || bytes[j] == '\n'))
            j++;
        if (j < len && bytes[j] == ':') {
            *column = (int64_t)(i - line_start) + 1;
            return;
        }
    }
    *line_delta = 0;
}

/* The envelope's optional "vv" member onto the record; `why` gets the
 * reason when it is not a valid version vector. */
static int decode_vv(rdapsync_batch *batch, rdapsync_record *rec, const rdapsync_value *vv, char *why,
                     size_t why_size)
{
    rdapsync_vv_entry entries[SOURCE_FILE_MAX_REGIONS];
    size_t count = 0;
    char err[256];

    if (!vv)
        return 0;
    if (!RDAPSYNC_HAS(rdapsync_host, H, record_set_vv)) {
        snprintf(why, why_size, "envelope \"vv\": this host predates version vectors (ABI 1.4)");
        return 0;
    }
    if (rdapsync_vv_from_json(J, vv, entries, SOURCE_FILE_MAX_REGIONS, &count, err, sizeof(err)) != 0) {
        snprintf(why, why_size, "envelope \"vv\": %s", err);
        return 0;
    }
    return H->record_set_vv(batch, rec, entries, count);
}

/* An envelope: {"key","op","ts_ms","origin","seq","vv","value"} as rdapgen
 * writes it, or the sink-file shape with a "version" object. *why is set
 * when the envelope is unusable (the record is then bad); `vv_why` (empty
 * on entry) gets the reason when only its version vector is. */
static int decode_envelope(source_state *s, rdapsync_batch *batch, rdapsync_record *rec, rdapsync_value *doc,
                           rdapsync_value *split_value, int64_t line, const char **why, char *vv_why,
                           size_t vv_why_size)
{
    char keybuf[32];
    size_t key_len = 0;
    const char *key = key_text(J->object_get(doc, "key"), keybuf, sizeof(keybuf), &key_len);
    const char *op = J->string_value(J->object_get(doc, "op"));
    rdapsync_value *value = split_value ? split_value : J->object_get(doc, "value");
    const rdapsync_value *version = J->object_get(doc, "version");
    const rdapsync_value *vsrc = J->type(version) == RDAPSYNC_JSON_OBJECT ? version : doc;
    const rdapsync_value *seq = J->object_get(vsrc, "seq");
    bool is_delete;

    if (!key) {
        *why = "envelope \"key\" is not a string or an integer";
        return 0;
    }
    if (!op || (strcmp(op, "upsert") != 0 && strcmp(op, "delete") != 0)) {
        *why = "envelope \"op\" is neither \"upsert\" nor \"delete\"";
        return 0;
    }
    is_delete = op[0] == 'd';
    if (!is_delete && J->type(value) != RDAPSYNC_JSON_OBJECT) {
        *why = "envelope upsert without an object \"value\"";
        return 0;
    }
    if (s->cfg->key_field && !is_delete) {
        size_t alt_len;
        const char *alt = key_text(J->object_get(value, s->cfg->key_field), keybuf, sizeof(keybuf), &alt_len);
        if (alt) {
            key = alt;
            key_len = alt_len;
        }
    }
    if (H->record_set_key(batch, rec, key, key_len) != 0 ||
        H->record_set_op(batch, rec, is_delete ? RDAPSYNC_OP_DELETE : RDAPSYNC_OP_UPSERT) != 0 ||
        H->record_set_version(batch, rec, J->integer_value(J->object_get(vsrc, "ts_ms")),
                              J->string_value(J->object_get(vsrc, "origin")),
                              J->type(seq) == RDAPSYNC_JSON_INTEGER ? J->integer_value(seq) : line) != 0 ||
        add_headers(batch, rec, J->object_get(doc, "headers")) != 0 ||
        decode_vv(batch, rec, J->object_get(doc, "vv"), vv_why, vv_why_size) != 0)
        return -1;
    if (*vv_why)
        return 0;
    if (!is_delete && H->record_set_value(batch, rec, J->incref(value)) != 0)
        return -1;
    return 0;
}

static int decode_document(source_state *s, rdapsync_batch *batch, rdapsync_record *rec, rdapsync_value *doc,
                           const input_file *file, int64_t line)
{
    char keybuf[512];
    size_t key_len = 0;
    const char *key = NULL;

    if (s->cfg->key_field)
        key = key_text(J->object_get(doc, s->cfg->key_field), keybuf, sizeof(keybuf), &key_len);
    if (!key)
        key = key_text(J->object_get(doc, "handle"), keybuf, sizeof(keybuf), &key_len);
    if (!key)
        key = key_text(J->object_get(doc, "ldhName"), keybuf, sizeof(keybuf), &key_len);
    if (!key) {
        int n = snprintf(keybuf, sizeof(keybuf), "%s:%" PRId64, file->stream, line);
        key = keybuf;
        key_len = n < 0 || (size_t)n >= sizeof(keybuf) ? strlen(keybuf) : (size_t)n;
    }
    if (H->record_set_key(batch, rec, key, key_len) != 0 ||
        H->record_set_version(batch, rec, last_changed_ms(doc), NULL, line) != 0)
        return -1;
    /* The parsed root goes in as it came out of parse(): the host sizes it
     * without walking it. */
    return H->record_set_value(batch, rec, J->incref(doc));
}

/* "line L column C (byte B): ..." -> L, for errors inside a document file. */
static int64_t error_line(const char *err, int64_t fallback)
{
    long long l;
    return sscanf(err, "line %lld", &l) == 1 && l > 0 ? (int64_t)l : fallback;
}

static const char *type_name(rdapsync_value_type t)
{
    switch (t) {
    case RDAPSYNC_JSON_ARRAY: return "an array";
    case RDAPSYNC_JSON_STRING: return "a string";
    case RDAPSYNC_JSON_INTEGER:
    case RDAPSYNC_JSON_REAL: return "a number";
    case RDAPSYNC_JSON_BOOL: return "a boolean";
    case RDAPSYNC_JSON_NULL: return "null";
    case RDAPSYNC_JSON_OBJECT: return "an object";
    }
    return "unknown";
}

/* The envelope's version origin (either shape), or NULL. */
static const char *envelope_origin(const rdapsync_value *doc)
{
    const rdapsync_value *version = J->object_get(doc, "version");
    return J->string_value(J->object_get(J->type(version) == RDAPSYNC_JSON_OBJECT ? version : doc, "origin"));
}

/* A record of a skipped origin: not emitted, counted. Its position moves
 * onto the last record this poll added from the same file, so that the
 * checkpoint covers it; without one, the line is read (and skipped) again
 * after a restart. 1, or -1 when the host refused the position. */
static int skip_record(source_state *s, rdapsync_batch *batch, const input_file *file, int64_t next_offset)
{
    s->skipped++;
    H->counter_add(s->ctx, ORIGIN_SKIP_COUNTER, 1);
    if (s->last_added && s->last_added->position.stream && strcmp(s->last_added->position.stream, file->stream) == 0 &&
        H->record_set_position(batch, s->last_added, file->stream, -1, next_offset) != 0)
        return -1;
    return 1;
}

/* The SDK's nesting limit: a value split off an envelope may nest one
 * level less than it. */
#define JSON_MAX_DEPTH 512

/*
 * An envelope line as two texts: the envelope with its "value" replaced by
 * {} (the shell, returned; the caller owns it), and the value on its own
 * (*value, owned). The value then reaches the sink as its own document,
 * parsed lazily: a sink writes its bytes, no tree is built for it unless a
 * transform reads it, and the line's bytes are validated once. (Read as a
 * member of the line's document it was built into a tree here and dumped
 * again by the sink: about half of file -> postgres's CPU on envelopes.)
 *
 * The two texts are valid exactly when the line is: one JSON value ({})
 * replaced by another, the value's keys checked in the value, and the value
 * split off only when its depth plus the envelope's level is within the
 * limit (the Kafka source splits Debezium's `after` the same way). NULL
 * (nothing owned) when the line does not start like an envelope, the scan
 * gives up, or either text is refused: the caller parses the whole line,
 * whose verdict and `line L column C` are the answer. The value is parsed
 * first and the shell last, so that the thread's parser holds the shell's
 * tape when the envelope's members are read.
 */
static rdapsync_value *split_envelope(source_state *s, const char *bytes, size_t len, rdapsync_value **value)
{
    const char *v;
    size_t v_len;
    int depth;
    char err[256];
    rdapsync_value *shell;

    *value = NULL;
    /* rdapgen and the file sink write "key" or "op" first; a raw RDAP
     * document never has either, and is not scanned for "value". */
    if ((!jscan_first_key_is(bytes, len, "key") && !jscan_first_key_is(bytes, len, "op")) ||
        jscan_member(bytes, len, "value", &v, &v_len, &depth) != 0 || *v != '{' || depth > JSON_MAX_DEPTH - 1)
        return NULL;
    size_t shell_len = jscan_hollow(bytes, len, v, v_len, &s->shell, &s->shell_cap);
    if (!shell_len || !(*value = J->parse(v, v_len, err, sizeof(err))))
        return NULL;
    if (!(shell = J->parse(s->shell, shell_len, err, sizeof(err)))) {
        J->decref(*value);
        *value = NULL;
    }
    return shell;
}

int decode_record(source_state *s, rdapsync_batch *batch, const input_file *file, const char *bytes, size_t len,
                  int64_t line, int64_t next_offset)
{
    char err[512], why[160], vv_why[320] = "";
    rdapsync_value *value = NULL;
    rdapsync_value *doc = split_envelope(s, bytes, len, &value);
    rdapsync_record *rec;
    const char *bad = NULL;
    int rc = -1;

    if (doc && !(J->object_get(doc, "op") && J->object_get(doc, "key"))) {
        /* Not an envelope after all: the document is the whole line. */
        J->decref(doc);
        J->decref(value);
        doc = value = NULL;
    }
    if (!doc)
        doc = J->parse(bytes, len, err, sizeof(err));
    if (!doc)
        return decode_bad(s, batch, file, bytes, len, file->document ? error_line(err, line) : line, next_offset,
                          err);
    if (J->type(doc) != RDAPSYNC_JSON_OBJECT) {
        snprintf(why, sizeof(why), "top-level value is %s, expected an object", type_name(J->type(doc)));
        J->decref(doc);
        return decode_bad(s, batch, file, bytes, len, line, next_offset, why);
    }
    bool envelope = J->object_get(doc, "op") && J->object_get(doc, "key");
    if (envelope && s->cfg->skip_origins.count && origin_skipped(&s->cfg->skip_origins, envelope_origin(doc))) {
        rc = skip_record(s, batch, file, next_offset);
        goto out;
    }
    if (!(rec = H->record_add(batch)))
        goto out;
    s->last_added = rec;
    if (H->record_set_position(batch, rec, file->stream, -1, next_offset) != 0)
        goto out;
    if (envelope)
        rc = decode_envelope(s, batch, rec, doc, value, line, &bad, vv_why, sizeof(vv_why));
    else
        rc = decode_document(s, batch, rec, doc, file, line);
    if (rc == 0 && bad)
        rc = mark_bad(s, batch, rec, file, bytes, len, line, bad); /* nothing else was set on rec */
    else if (rc == 0 && *vv_why) {
        /* record_set_bad drops the value; key and version are set again. */
        int64_t line_delta, column;
        vv_place(bytes, len, &line_delta, &column);
        rc = mark_bad_at(s, batch, rec, file, bytes, len, line + line_delta, column, vv_why);
    }
out:
    J->decref(doc);
    J->decref(value);
    return rc;
}
