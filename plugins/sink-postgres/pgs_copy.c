/*
 * The bulk write path (method: copy, the default): the rows go to the
 * server as one COPY, streamed while they are serialized, so the server
 * parses and stores row n while the sink serializes row n+1.
 *
 * Upsert mode: binary COPY into a temporary stage, then one
 * INSERT ... SELECT ... ON CONFLICT with the version guard. Binary because
 * every field is a length and its bytes: a document goes into the COPY
 * buffer as the serializer writes it, with nothing to escape on our side
 * and no text to de-escape on the server's. The stage's doc column uses
 * the table's own TOAST compression: the server compresses a document once,
 * in the stage, and moves it into the table as it is.
 * Append mode: text COPY straight into the table (text input lets a
 * hand-made table use other column types).
 *
 * A COPY cannot say which row the server refused, so on a data error the
 * write rolls back to its savepoint and goes through the pipeline path,
 * which can. docs/plugins/sink-postgres.md has the measurements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

/* Small enough that the server starts on the first rows while we serialize
 * the next ones, large enough to keep the number of calls down. */
#define PGS_COPY_CHUNK_BYTES (64u * 1024u)
#define PGS_STAGE_FIELDS 9

/* Binary COPY signature, flags and header extension length. */
static const char copy_header[19] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0' };

static int put_be(pgs_buffer *buf, uint64_t v, size_t bytes)
{
    char b[8];
    for (size_t i = 0; i < bytes; i++)
        b[i] = (char)(v >> (8 * (bytes - 1 - i)));
    return pgs_buffer_append(buf, b, bytes);
}

int pgs_copy_field_count(pgs_buffer *buf, unsigned fields)
{
    return put_be(buf, fields, 2);
}

/* A binary field: its length, then its bytes; NULL is length -1. */
int pgs_copy_field(pgs_buffer *buf, const char *bytes, size_t len)
{
    if (!bytes)
        return put_be(buf, UINT32_MAX, 4);
    if (len > INT32_MAX)
        return -1;
    return put_be(buf, len, 4) || pgs_buffer_append(buf, bytes, len);
}

int pgs_copy_int_field(pgs_buffer *buf, int64_t v, size_t bytes)
{
    return put_be(buf, bytes, 4) || put_be(buf, (uint64_t)v, bytes);
}

/* The document as jsonb's binary input (a version byte, then JSON text),
 * serialized in place; the field's length is filled in afterwards. */
static int put_doc(pgs_buffer *buf, const rdapsync_value *doc, const char *text, size_t text_len)
{
    size_t at = buf->len;
    if (put_be(buf, 0, 4) != 0 || pgs_buffer_append(buf, "\1", 1) != 0 ||
        (doc ? pgs_json_serialize(doc, buf) : pgs_buffer_append(buf, text, text_len)) != 0)
        return -1;
    size_t len = buf->len - at - 4;
    if (len > INT32_MAX)
        return -1;
    for (size_t i = 0; i < 4; i++)
        buf->data[at + i] = (char)(len >> (8 * (3 - i)));
    return 0;
}

int pgs_copy_doc_field(pgs_buffer *buf, const rdapsync_value *doc)
{
    return put_doc(buf, doc, NULL, 0);
}

int pgs_copy_doc_text_field(pgs_buffer *buf, const char *text, size_t len)
{
    return put_doc(buf, NULL, text, len);
}

/* One stage row, in the stage's column order. */
static int put_binary_row(pgs_buffer *buf, const rdapsync_record *r)
{
    const char *origin = r->version.origin ? r->version.origin : "";
    const char *stream = r->position.stream;
    char deleted = r->op == RDAPSYNC_OP_DELETE ? 1 : 0;

    if (put_be(buf, PGS_STAGE_FIELDS, 2) != 0 || pgs_copy_field(buf, r->key, r->key_len) != 0)
        return -1;
    if ((deleted ? pgs_copy_field(buf, NULL, 0) : pgs_copy_doc_field(buf, r->value)) != 0)
        return -1;
    return pgs_copy_field(buf, &deleted, 1) || pgs_copy_int_field(buf, r->version.event_time_ms, 8) ||
           pgs_copy_field(buf, origin, strlen(origin)) || pgs_copy_int_field(buf, r->version.sequence, 8) ||
           pgs_copy_field(buf, stream, stream ? strlen(stream) : 0) || pgs_copy_int_field(buf, r->position.partition, 4) ||
           pgs_copy_int_field(buf, r->position.offset, 8);
}

/* Text COPY escaping of buf[from, len) in place: one scan, and a move only
 * for the rare field that holds a backslash, newline, CR or tab. */
static int escape_text_tail(pgs_buffer *buf, size_t from)
{
    size_t extra = 0;
    for (size_t i = from; i < buf->len; i++) {
        char c = buf->data[i];
        extra += c == '\\' || c == '\n' || c == '\r' || c == '\t';
    }
    if (extra == 0)
        return 0;
    size_t old_len = buf->len;
    if (pgs_buffer_reserve(buf, extra) != 0)
        return -1;
    buf->len += extra;
    char *dst = buf->data + buf->len;
    for (size_t i = old_len; i-- > from;) {
        char c = buf->data[i];
        switch (c) {
        case '\\': *--dst = '\\'; break;
        case '\n': *--dst = 'n'; break;
        case '\r': *--dst = 'r'; break;
        case '\t': *--dst = 't'; break;
        default: *--dst = c; continue;
        }
        *--dst = '\\';
    }
    return 0;
}

static int put_text(pgs_buffer *buf, const char *bytes, size_t len, char end)
{
    size_t at = buf->len;
    if (!bytes)
        return pgs_buffer_append(buf, "\\N", 2) || pgs_buffer_append(buf, &end, 1);
    return pgs_buffer_append(buf, bytes, len) || escape_text_tail(buf, at) || pgs_buffer_append(buf, &end, 1);
}

static int put_text_int(pgs_buffer *buf, int64_t v, char end)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%lld", (long long)v);
    return put_text(buf, text, (size_t)n, end);
}

/* One row in COPY text format, in pgs_schema_columns() order. */
static int put_text_row(pgs_buffer *buf, const rdapsync_record *r)
{
    const char *origin = r->version.origin ? r->version.origin : "";
    const char *stream = r->position.stream;
    bool deleted = r->op == RDAPSYNC_OP_DELETE;

    if (put_text(buf, r->key, r->key_len, '\t') != 0)
        return -1;
    if (deleted) {
        if (put_text(buf, NULL, 0, '\t') != 0)
            return -1;
    } else {
        size_t at = buf->len;
        if (pgs_json_serialize(r->value, buf) != 0 || escape_text_tail(buf, at) != 0 ||
            pgs_buffer_append(buf, "\t", 1) != 0)
            return -1;
    }
    return put_text(buf, deleted ? "t" : "f", 1, '\t') || put_text_int(buf, r->version.event_time_ms, '\t') ||
           put_text(buf, origin, strlen(origin), '\t') || put_text_int(buf, r->version.sequence, '\t') ||
           put_text(buf, stream, stream ? strlen(stream) : 0, '\t') ||
           put_text_int(buf, r->position.partition, '\t') || put_text_int(buf, r->position.offset, '\n');
}

/* What a failed command said, beyond its status. */
typedef struct copy_failure {
    bool data_error;   /* a row's data (pgs_classify) */
    bool key_exists;   /* unique violation: a key of the batch is already stored */
} copy_failure;

int pgs_copy_put_row(pgs_buffer *buffer, const rdapsync_record *record, bool binary)
{
    return binary ? put_binary_row(buffer, record) : put_text_row(buffer, record);
}

/* Result of a command, classified; `applied` gets PQcmdTuples. */
static rdapsync_status check_result(PGconn *conn, PGresult *res, ExecStatusType want, copy_failure *failure,
                                    uint64_t *applied, char *err, size_t err_size)
{
    if (res && PQresultStatus(res) == want) {
        if (applied)
            *applied = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        return RDAPSYNC_OK;
    }
    pgs_error_text(conn, res, err, err_size);
    pgs_failure class = pgs_classify(conn, res);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    failure->data_error = class == PGS_FAIL_DATA;
    failure->key_exists = state && strcmp(state, "23505") == 0;
    PQclear(res);
    return class == PGS_FAIL_DATA ? RDAPSYNC_ERROR : pgs_failure_status(class);
}

/* The columns put_binary_row() writes and their types, in order. */
static const char *const binary_types[PGS_STAGE_FIELDS] = { "text",   "jsonb", "boolean", "bigint", "text",
                                                            "bigint", "text",  "integer", "bigint" };
static const char *const binary_columns[PGS_STAGE_FIELDS] = { NULL, "doc", "deleted", "event_time_ms", "origin",
                                                              "seq", "src_stream", "src_partition", "src_offset" };

/*
 * What the stage needs to know of the table: the doc column's TOAST
 * compression (PostgreSQL 14+; a compressed value moves from the stage into
 * the table without being recompressed, so a stage with another method would
 * change the table's), and whether the table's columns have exactly the
 * types of the binary rows, so that new keys can be copied straight in.
 */
static rdapsync_status table_layout(pgs_state *st, const char **compression, char *err, size_t err_size)
{
    *compression = "";
    st->direct_capable = false;
    const char *params[1] = { st->names.table };
    PGresult *res = PQexecParams(st->conn,
                                 PQserverVersion(st->conn) >= 140000
                                     ? "SELECT attname, format_type(atttypid, NULL), attcompression::text "
                                       "FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                                       "AND NOT attisdropped"
                                     : "SELECT attname, format_type(atttypid, NULL), '' "
                                       "FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                                       "AND NOT attisdropped",
                                 1, NULL, params, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgs_error_text(st->conn, res, err, err_size);
        rdapsync_status status = pgs_failure_status(pgs_classify(st->conn, res));
        PQclear(res);
        return status;
    }
    int matching = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = PQgetvalue(res, i, 0), *type = PQgetvalue(res, i, 1);
        for (int c = 0; c < PGS_STAGE_FIELDS; c++) {
            const char *column = binary_columns[c] ? binary_columns[c] : st->cfg->key_column;
            if (strcmp(name, column) == 0)
                matching += strcmp(type, binary_types[c]) == 0;
        }
        if (strcmp(name, "doc") == 0 && strcmp(PQgetvalue(res, i, 2), "l") == 0)
            *compression = " COMPRESSION lz4";
        else if (strcmp(name, "doc") == 0 && strcmp(PQgetvalue(res, i, 2), "p") == 0)
            *compression = " COMPRESSION pglz";
    }
    st->direct_capable = matching == PGS_STAGE_FIELDS;
    PQclear(res);
    return RDAPSYNC_OK;
}

static rdapsync_status ensure_stage(pgs_state *st, char *err, size_t err_size)
{
    if (st->stage_ready)
        return RDAPSYNC_OK;
    const char *compression;
    rdapsync_status status = table_layout(st, &compression, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    /* Created in the write's transaction: a rollback takes it away again,
     * so stage_ready is cleared whenever the transaction is. The column
     * types are what put_binary_row() writes; heads is the register's
     * (pgs_mvr.c), NULL in the rows of this file. STORAGE MAIN keeps a
     * compressed document in the stage's row instead of its TOAST table:
     * stored out of line it would be written, read back and written again
     * (a quarter of the server's time on ~4 KB documents). The same for
     * heads: beside a MAIN document, a row over 2 KB would otherwise move
     * its heads, however short, out of line. And heads, like doc, with
     * the table's compression: heads carrying documents were compressed
     * by pglz, the server's default, at a tenth of lz4's speed (2 % of
     * the server's time of a vectors run). */
    char *sql = pgs_printf("CREATE TEMP TABLE IF NOT EXISTS " PGS_STAGE " (%1$s text, doc jsonb%2$s, deleted boolean, "
                           "event_time_ms bigint, origin text, seq bigint, src_stream text, src_partition integer, "
                           "src_offset bigint, heads text%2$s) ON COMMIT DELETE ROWS; "
                           "ALTER TABLE " PGS_STAGE " ALTER doc SET STORAGE MAIN, ALTER heads SET STORAGE MAIN",
                           st->names.key, compression);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    status = pgs_exec(st->conn, sql, err, err_size);
    free(sql);
    if (status == RDAPSYNC_OK)
        st->stage_ready = true;
    return status;
}

/* Streams `count` rows, each appended by put(), with one COPY (`sql`). */
static rdapsync_status copy_stream(pgs_state *st, const char *sql, size_t count, pgs_copy_row_fn put, void *arg,
                                   bool binary, copy_failure *failure, char *err, size_t err_size)
{
    PGconn *conn = st->conn;
    rdapsync_status status = check_result(conn, PQexec(conn, sql), PGRES_COPY_IN, failure, NULL, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;

    pgs_buffer *buf = &st->buffer;
    const char *abort_reason = NULL;
    buf->len = 0;
    if (binary && pgs_buffer_append(buf, copy_header, sizeof(copy_header)) != 0)
        abort_reason = "out of memory";
    for (size_t i = 0; i < count && !abort_reason; i++) {
        if (put(buf, i, arg) != 0)
            abort_reason = "out of memory serializing a document";
        else if (binary && i + 1 == count && put_be(buf, UINT16_MAX, 2) != 0) /* trailer */
            abort_reason = "out of memory";
        else if (buf->len >= PGS_COPY_CHUNK_BYTES || i + 1 == count) {
            if (PQputCopyData(conn, buf->data, (int)buf->len) != 1)
                abort_reason = "connection lost during COPY";
            buf->len = 0;
        }
    }
    if (PQputCopyEnd(conn, abort_reason) != 1 && !abort_reason)
        abort_reason = "connection lost ending COPY";
    status = check_result(conn, PQgetResult(conn), PGRES_COMMAND_OK, failure, NULL, err, err_size);
    /* Drain to the end of the command. */
    for (PGresult *res; (res = PQgetResult(conn)) != NULL;)
        PQclear(res);
    if (abort_reason) {
        /* Our own abort makes the server report an error: say ours instead. */
        snprintf(err, err_size, "%s", abort_reason);
        failure->data_error = failure->key_exists = false;
        status = strncmp(abort_reason, "out of memory", 13) == 0 ? RDAPSYNC_ERROR : RDAPSYNC_RETRY;
    }
    return status;
}

typedef struct plan_rows {
    const rdapsync_sinktk_plan *plan;
    bool binary;
} plan_rows;

static int put_plan_row(pgs_buffer *buf, size_t i, void *arg)
{
    const plan_rows *rows = arg;
    return pgs_copy_put_row(buf, rows->plan->rows[i].record, rows->binary);
}

/* Streams the rows into `target` with one COPY. */
static rdapsync_status copy_rows(pgs_state *st, const rdapsync_sinktk_plan *rows, const char *target, bool binary,
                                 copy_failure *failure, char *err, size_t err_size)
{
    char *sql = pgs_printf("COPY %s (%s, %s) FROM STDIN%s", target, st->names.key, pgs_schema_columns(st->cfg->mode),
                           binary ? " (FORMAT binary)" : "");
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    plan_rows arg = { .plan = rows, .binary = binary };
    rdapsync_status status = copy_stream(st, sql, rows->count, put_plan_row, &arg, binary, failure, err, err_size);
    free(sql);
    return status;
}

rdapsync_status pgs_copy_stage_rows(pgs_state *st, const char *columns, size_t count, pgs_copy_row_fn put, void *arg,
                                    char *err, size_t err_size)
{
    rdapsync_status status = ensure_stage(st, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    /* The stage empties itself at commit; an earlier write of this
     * transaction may have left rows in it. */
    if (st->stage_dirty && (status = pgs_exec(st->conn, "TRUNCATE " PGS_STAGE, err, err_size)) != RDAPSYNC_OK)
        return status;
    st->stage_dirty = true;
    char *sql = pgs_printf("COPY " PGS_STAGE " (%s) FROM STDIN (FORMAT binary)", columns);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    copy_failure failure = { 0 };
    status = copy_stream(st, sql, count, put, arg, true, &failure, err, err_size);
    free(sql);
    /* Not one record's fault: the register's write fails as a whole. */
    return status == RDAPSYNC_ERROR && failure.data_error ? RDAPSYNC_ERROR : status;
}

/*
 * New keys need no stage: in upsert mode a batch whose keys are all absent
 * from the table is exactly what a plain COPY into the table stores, and a
 * key that is there makes that COPY fail with a unique violation (the key
 * has a unique index: ON CONFLICT needs one). So the sink copies straight
 * in while that works (an initial load, a stream of new registrations), and
 * after a failure goes through the stage, probing again after 8, 16, ...
 * up to 1024 writes: a stream of updates wastes one batch's COPY now and
 * then, not every time.
 */
#define PGS_DIRECT_BACKOFF_MIN 8u
#define PGS_DIRECT_BACKOFF_MAX 1024u

static bool direct_due(pgs_state *st)
{
    if (!st->direct_capable)
        return false;
    if (st->direct_skip > 0) {
        st->direct_skip--;
        return false;
    }
    return true;
}

static void direct_result(pgs_state *st, bool worked)
{
    if (worked) {
        st->direct_backoff = 0;
        return;
    }
    st->direct_backoff = st->direct_backoff ? st->direct_backoff * 2 : PGS_DIRECT_BACKOFF_MIN;
    if (st->direct_backoff > PGS_DIRECT_BACKOFF_MAX)
        st->direct_backoff = PGS_DIRECT_BACKOFF_MAX;
    st->direct_skip = st->direct_backoff;
    pgs_host->log(st->ctx, RDAPSYNC_LOG_DEBUG, "a key of the batch is already stored: the next %u writes go through "
                  "the stage", st->direct_skip);
}

/* Rolls the write back to its savepoint after a refused COPY or INSERT. */
static rdapsync_status rollback_write(PGconn *conn, char *err, size_t err_size)
{
    return pgs_exec(conn, "ROLLBACK TO SAVEPOINT rdapsync_w; RELEASE SAVEPOINT rdapsync_w", err, err_size);
}

rdapsync_status pgs_copy_apply(pgs_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                               rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    PGconn *conn = st->conn;
    copy_failure failure = { 0 };
    bool upsert = st->cfg->mode == RDAPSYNC_SINKTK_UPSERT;
    uint64_t applied = 0;
    rdapsync_status status;

    if (rows->count == 0)
        return RDAPSYNC_OK;
    if (upsert && (status = ensure_stage(st, err, err_size)) != RDAPSYNC_OK)
        return status;

    if (upsert && direct_due(st)) {
        if ((status = pgs_exec(conn, "SAVEPOINT rdapsync_w", err, err_size)) != RDAPSYNC_OK)
            return status;
        status = copy_rows(st, rows, st->names.table, true, &failure, err, err_size);
        if (status == RDAPSYNC_OK) {
            direct_result(st, true);
            tally->applied += rows->count;
            return pgs_exec(conn, "RELEASE SAVEPOINT rdapsync_w", err, err_size);
        }
        if (!failure.data_error)
            return status;
        if ((status = rollback_write(conn, err, err_size)) != RDAPSYNC_OK)
            return status;
        if (!failure.key_exists) /* someone's data was refused: find whose, row by row */
            return pgs_pipeline_apply(st, rows, rejects, tally, err, err_size);
        direct_result(st, false);
        failure = (copy_failure){ 0 };
    }

    /* The stage empties itself at commit; only a second write in the same
     * transaction finds rows in it. */
    bool truncate = upsert && st->stage_dirty;
    if ((status = pgs_exec(conn, truncate ? "SAVEPOINT rdapsync_w; TRUNCATE " PGS_STAGE : "SAVEPOINT rdapsync_w",
                           err, err_size)) != RDAPSYNC_OK)
        return status;
    st->stage_dirty = upsert;

    status = copy_rows(st, rows, upsert ? PGS_STAGE : st->names.table, upsert, &failure, err, err_size);
    if (status == RDAPSYNC_OK && upsert) {
        char *conflict = pgs_schema_conflict_clause(&st->names);
        char *sql = conflict ? pgs_printf("INSERT INTO %s AS cur (%s, %s) SELECT %s, %s FROM " PGS_STAGE " %s",
                                          st->names.table, st->names.key, pgs_schema_columns(st->cfg->mode),
                                          st->names.key, pgs_schema_columns(st->cfg->mode), conflict)
                             : NULL;
        free(conflict);
        if (!sql) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        status = check_result(conn, PQexec(conn, sql), PGRES_COMMAND_OK, &failure, &applied, err, err_size);
        free(sql);
    } else if (status == RDAPSYNC_OK) {
        applied = rows->count;
    }

    if (status == RDAPSYNC_OK) {
        tally->applied += applied;
        tally->stale += upsert ? rows->count - applied : 0;
        return pgs_exec(conn, "RELEASE SAVEPOINT rdapsync_w", err, err_size);
    }
    if (!failure.data_error)
        return status;
    /* Someone's data was refused: find whose, row by row. */
    if ((status = rollback_write(conn, err, err_size)) != RDAPSYNC_OK)
        return status;
    return pgs_pipeline_apply(st, rows, rejects, tally, err, err_size);
}
