#include "envelope.h"

#include <string.h>

#include "jpath.h"
#include "rdapjson.h"

static int fail_at(char *err, size_t err_size, const char *key, const char *message)
{
    jpath path;

    jpath_init(&path);
    if (key)
        jpath_push_key(&path, key);
    return rj_fail(err, err_size, &path, "%s", message);
}

static int read_rdapsync(const rdapsync_json_api *j, rdapsync_value *doc, envelope *out, char *err, size_t err_size)
{
    const char *op = rj_string_member(j, doc, "op");
    rdapsync_value *key = j->object_get(doc, "key");
    rdapsync_value *value = j->object_get(doc, "value");
    rdapsync_value *ts = j->object_get(doc, "ts_ms");
    rdapsync_value *seq = j->object_get(doc, "seq");

    if (!op || (strcmp(op, "upsert") != 0 && strcmp(op, "delete") != 0))
        return fail_at(err, err_size, "op", "envelope op must be \"upsert\" or \"delete\"");
    if (j->type(key) != RDAPSYNC_JSON_STRING)
        return fail_at(err, err_size, "key", "envelope key must be a string");
    out->present = true;
    out->key = j->string_value(key);
    out->key_len = j->string_length(key);
    out->op = strcmp(op, "delete") == 0 ? RDAPSYNC_OP_DELETE : RDAPSYNC_OP_UPSERT;
    if (out->op == RDAPSYNC_OP_UPSERT) {
        if (j->type(value) != RDAPSYNC_JSON_OBJECT)
            return fail_at(err, err_size, "value", "an upsert envelope needs an object value");
        out->value = value;
    }
    if (j->type(ts) == RDAPSYNC_JSON_INTEGER) {
        out->has_version = true;
        out->ts_ms = j->integer_value(ts);
        out->origin = rj_string_member(j, doc, "origin");
        out->has_seq = j->type(seq) == RDAPSYNC_JSON_INTEGER;
        out->seq = out->has_seq ? j->integer_value(seq) : 0;
    }
    return 0;
}

static int read_debezium(const rdapsync_json_api *j, rdapsync_value *payload, envelope *out, char *err,
                         size_t err_size)
{
    const char *op = rj_string_member(j, payload, "op");
    rdapsync_value *before = j->object_get(payload, "before");
    rdapsync_value *after = j->object_get(payload, "after");
    rdapsync_value *ts = j->object_get(payload, "ts_ms");

    out->present = true;
    if (strcmp(op, "d") == 0) {
        out->op = RDAPSYNC_OP_DELETE;
        out->key = rj_string_member(j, before, "handle");
        out->key_len = out->key ? strlen(out->key) : 0;
    } else if (strcmp(op, "c") == 0 || strcmp(op, "u") == 0 || strcmp(op, "r") == 0) {
        if (j->type(after) != RDAPSYNC_JSON_OBJECT)
            return fail_at(err, err_size, "after", "a Debezium create/update needs an object \"after\"");
        out->op = RDAPSYNC_OP_UPSERT;
        out->value = after;
    } else {
        return fail_at(err, err_size, "op", "Debezium op must be c, u, r or d");
    }
    if (j->type(ts) == RDAPSYNC_JSON_INTEGER) {
        out->has_version = true;
        out->ts_ms = j->integer_value(ts);
    }
    return 0;
}

int envelope_read(const rdapsync_json_api *j, rdapsync_value *doc, envelope *out, char *err, size_t err_size)
{
    rdapsync_value *payload;

    memset(out, 0, sizeof *out);
    if (j->type(doc) != RDAPSYNC_JSON_OBJECT || j->object_get(doc, "objectClassName"))
        return 0;
    payload = j->object_get(doc, "payload");
    if (j->type(payload) == RDAPSYNC_JSON_OBJECT && rj_string_member(j, payload, "op"))
        return read_debezium(j, payload, out, err, err_size);
    if (rj_string_member(j, doc, "op") && j->object_get(doc, "key"))
        return read_rdapsync(j, doc, out, err, err_size);
    if (rj_string_member(j, doc, "op") && (j->object_get(doc, "after") || j->object_get(doc, "before")))
        return read_debezium(j, doc, out, err, err_size);
    return 0;
}
