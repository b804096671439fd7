/*
 * The direct path (method: auto and load; the default, insert, never takes
 * it): a batch's rows go to the server as one LOAD DATA LOCAL INFILE ...
 * IGNORE, streamed from memory through the client library's local-infile
 * callbacks while they are serialized (a chunk at a time: the batch is
 * never held as text as a whole). The server skips the SQL lexer and the
 * unescaping of string literals, but LOAD DATA's own field reader costs it
 * as much or more: on MariaDB 10.11 this path measured 10-20% more server
 * CPU per 4 KB row than the statements, hence not the default
 * (docs/plugins/sink-mysql.md#benchmark).
 *
 * LOAD DATA only inserts, and IGNORE makes it skip the keys the table
 * already holds, one warning each. Inserting a key the table does not hold
 * is what the guarded INSERT ... ON DUPLICATE KEY UPDATE does too, so the
 * rows that land are the statement path's rows; the version guard only
 * matters for the skipped keys. A batch with skipped rows therefore goes,
 * whole, through mys_apply()'s guarded statements, in the same transaction:
 * the rows LOAD DATA stored are sent again with the same version, which
 * the guard leaves alone, and the others are decided as always (rows
 * refused there are found and rejected with the server's message).
 *
 * IGNORE also turns strict mode's errors into warnings and stores what it
 * can of a bad value (a key cut to the column's length would merge two
 * records), so any warning beyond one per skipped row rolls the LOAD back
 * to its savepoint and the batch goes through the statements, which refuse
 * the bad rows instead.
 *
 * A batch over existing keys pays twice, so with method auto the batches
 * after a fallback go straight to the statements, and LOAD DATA is tried
 * again after a pause of 1, 2, 4, ... MYS_LOAD_MAX_PAUSE batches: the pause
 * doubles with every fallback and starts over after a batch that landed
 * whole. docs/plugins/sink-mysql.md has the rule and the measurements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "mys.h"

/* The name in the statement. Only this sink's handler ever sees it: no
 * file of that name is opened. */
#define MYS_LOAD_NAME "rdapsync-rows"
/* Handed to the client library a few KB at a time; refilled from the rows
 * at this size, so the server starts on the first rows at once. */
#define MYS_LOAD_CHUNK_BYTES (64u * 1024u)
/* The longest pause of the direct path after fallbacks, in batches. */
#define MYS_LOAD_MAX_PAUSE 64u
/* The OK packet's warning count is 16 bits: at this value it may be cut. */
#define MYS_LOAD_WARNINGS_CAP 65535u

/* The rows being streamed; the callbacks' userdata during one LOAD. */
typedef struct load_stream {
    mys_state *st;
    rdapsync_sinktk_plan *rows;
    size_t next;        /* the next row to serialize */
    size_t pos;         /* bytes of the chunk already handed over */
    size_t sent;        /* rows serialized */
    size_t longest;     /* the longest row text that may go (see row_limit) */
    bool asked;         /* the server asked for the rows */
    bool too_long;      /* a row was left out for the statements */
    bool out_of_memory; /* serializing failed */
} load_stream;

/* What a byte becomes after the backslash in LOAD DATA's default text
 * format (tab-separated fields, newline-terminated lines, backslash
 * escapes), or 0 when it stays as it is. */
static const char escape_of[256] = {
    ['\0'] = '0', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
};

static int put_escaped(mys_buffer *buf, const char *bytes, size_t len)
{
    return mys_escape_with(buf, bytes, len, escape_of);
}

static int escape_piece(const char *bytes, size_t len, void *opaque)
{
    return put_escaped(opaque, bytes, len);
}

/* A field: the escaped bytes, or \N for NULL; then the separator. */
static int put_field(mys_buffer *buf, const char *bytes, size_t len, char separator)
{
    if (!bytes ? mys_buffer_append(buf, "\\N", 2) != 0 : put_escaped(buf, bytes, len) != 0)
        return -1;
    return mys_buffer_append(buf, &separator, 1);
}

static int put_int(mys_buffer *buf, int64_t value, char separator)
{
    char digits[24], *p = digits + sizeof(digits);
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    *--p = separator;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        *--p = '-';
    return mys_buffer_append(buf, p, (size_t)(digits + sizeof(digits) - p));
}

/* One line: the columns of the statement path's VALUES tuple
 * (mys_text_row), in the same order, with the same values. */
static int put_row(mys_buffer *buf, const rdapsync_record *record)
{
    const char *origin = record->version.origin ? record->version.origin : "";
    const char *stream = record->position.stream;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;

    if (put_field(buf, record->key, record->key_len, '\t') != 0)
        return -1;
    if (deleted) {
        if (mys_buffer_append(buf, "\\N\t1\t", 5) != 0)
            return -1;
    } else if (mys_host->json->dump_cb(record->value, 0, escape_piece, buf) != 0 ||
               mys_buffer_append(buf, "\t0\t", 3) != 0) {
        return -1;
    }
    return put_int(buf, record->version.event_time_ms, '\t') || put_field(buf, origin, strlen(origin), '\t') ||
           put_int(buf, record->version.sequence, '\t') ||
           put_field(buf, stream, stream ? strlen(stream) : 0, '\t') ||
           put_int(buf, record->position.partition, '\t') || put_int(buf, record->position.offset, '\n');
}

/* Serializes the next rows into the chunk, about MYS_LOAD_CHUNK_BYTES. */
static int fill(load_stream *s)
{
    mys_buffer *chunk = &s->st->load_chunk;
    chunk->len = 0;
    s->pos = 0;
    while (s->next < s->rows->count && chunk->len < MYS_LOAD_CHUNK_BYTES) {
        const rdapsync_sinktk_row *row = &s->rows->rows[s->next++];
        if (row->state == MYS_ROW_DONE)
            continue;
        size_t mark = chunk->len;
        if (put_row(chunk, row->record) != 0)
            return -1;
        if (chunk->len - mark > s->longest) {
            chunk->len = mark;
            s->too_long = true;
            continue;
        }
        s->sent++;
    }
    return 0;
}

/* The client library's callbacks. userdata is NULL outside this sink's own
 * LOAD: a server that asks for a file then gets nothing. */
static int infile_init(void **info, const char *name, void *userdata)
{
    load_stream *s = userdata;
    *info = s;
    if (!s || strcmp(name, MYS_LOAD_NAME) != 0)
        return 1;
    s->asked = true;
    return 0;
}

static int infile_read(void *info, char *buf, unsigned int size)
{
    load_stream *s = info;
    mys_buffer *chunk = &s->st->load_chunk;
    unsigned int n = 0;
    while (n < size) {
        if (s->pos == chunk->len) {
            if (s->next == s->rows->count)
                break;
            if (fill(s) != 0) {
                s->out_of_memory = true;
                return -1;
            }
            continue;
        }
        size_t take = chunk->len - s->pos < size - n ? chunk->len - s->pos : size - n;
        memcpy(buf + n, chunk->data + s->pos, take);
        s->pos += take;
        n += (unsigned int)take;
    }
    return (int)n;
}

static void infile_end(void *info)
{
    (void)info; /* the stream belongs to load_batch() */
}

static int infile_error(void *info, char *buf, unsigned int size)
{
    load_stream *s = info;
    snprintf(buf, size, "%s",
             !s ? "the mysql sink sends no files: unexpected LOCAL INFILE request"
                : s->out_of_memory ? "out of memory" : "unexpected LOCAL INFILE file name");
    return CR_UNKNOWN_ERROR;
}

void mys_load_prepare(MYSQL *conn)
{
    mysql_set_local_infile_handler(conn, infile_init, infile_read, infile_end, infile_error, NULL);
}

/* The server or the client does not allow LOCAL INFILE. */
static bool refused_local_infile(unsigned int error, const load_stream *s)
{
    return error == ER_NOT_ALLOWED_COMMAND              /* 1148, older servers */
           || error == ER_LOAD_INFILE_CAPABILITY_DISABLED /* 4166, local_infile=OFF */
           || error == 2068                               /* MySQL's client: CR_LOAD_DATA_LOCAL_INFILE_REJECTED */
           || (error == CR_UNKNOWN_ERROR && !s->asked);   /* the library refused before asking us */
}

/* How a LOAD ended. */
typedef enum load_result {
    LOAD_LANDED,    /* every row is in */
    LOAD_PARTIAL,   /* rows were skipped (keys already held) or left out: the statements follow */
    LOAD_UNDONE,    /* rolled back to the savepoint: the statements follow */
    LOAD_REFUSED,   /* LOCAL INFILE is not allowed: the statements follow, and for the rest of the run */
} load_result;

/* Rows of a LOAD text longer than this go through the statements, which
 * decide whether they fit statement_bytes and max_allowed_packet: an SQL
 * literal is at most twice the bytes it holds (every byte escaped), plus
 * the tuple's punctuation. A row within it fits any statement. */
static size_t row_limit(const mys_state *st)
{
    size_t fixed = strlen(st->statement_head) + strlen(st->statement_tail) + 64;
    return st->max_statement > fixed ? (st->max_statement - fixed) / 2 : 0;
}

static rdapsync_status rollback_to_savepoint(mys_state *st, char *err, size_t err_size)
{
    return mys_exec(st->conn, "ROLLBACK TO SAVEPOINT rdapsync_load", err, err_size);
}

/* What made a LOAD go back, for the debug log: its first warning. */
static void log_first_warning(mys_state *st)
{
    static const char sql[] = "SHOW WARNINGS LIMIT 1";
    if (mysql_real_query(st->conn, sql, sizeof(sql) - 1) != 0)
        return;
    MYSQL_RES *res = mysql_store_result(st->conn);
    MYSQL_ROW row = res && mysql_num_fields(res) >= 3 ? mysql_fetch_row(res) : NULL;
    if (row && row[1] && row[2])
        mys_host->log(st->ctx, RDAPSYNC_LOG_DEBUG, "LOAD DATA warning %s: %s", row[1], row[2]);
    if (res)
        mysql_free_result(res);
}

/* One LOAD of the rows under a savepoint. */
static rdapsync_status load_batch(mys_state *st, rdapsync_sinktk_plan *rows, mys_tally *tally, load_result *result, char *err,
                                  size_t err_size)
{
    load_stream s = { .st = st, .rows = rows, .longest = row_limit(st) };
    uint64_t stored = 0;
    unsigned int warnings = 0;
    rdapsync_status status;

    char *sql = mys_printf("LOAD DATA LOCAL INFILE '" MYS_LOAD_NAME "' IGNORE INTO TABLE %s CHARACTER SET utf8mb4 "
                           "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
                           "(%s, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset)",
                           st->names.table, st->names.key);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    if ((status = mys_exec(st->conn, "SAVEPOINT rdapsync_load", err, err_size)) != RDAPSYNC_OK)
        goto done;
    st->load_chunk.len = 0; /* the last chunk of the previous LOAD went out already */
    mysql_set_local_infile_handler(st->conn, infile_init, infile_read, infile_end, infile_error, &s);
    int failed = mysql_real_query(st->conn, sql, (unsigned long)strlen(sql));
    mys_load_prepare(st->conn); /* &s is gone once this function returns */
    tally->loads++;

    if (failed) {
        unsigned int error = mysql_errno(st->conn);
        mys_error_text(st->conn, err, err_size);
        if (s.out_of_memory) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
            goto done;
        }
        mys_failure failure = mys_classify(error);
        if (failure == MYS_FAIL_RETRY) {
            status = RDAPSYNC_RETRY;
            goto done;
        }
        *result = refused_local_infile(error, &s) ? LOAD_REFUSED : LOAD_UNDONE;
        if (*result == LOAD_UNDONE)
            mys_host->log(st->ctx, RDAPSYNC_LOG_WARN, "LOAD DATA failed, the batch goes through INSERT statements: %s",
                          err);
        /* A failed statement is undone by the server; the savepoint makes
         * sure nothing of it stays, whatever the error was. */
        char reason[512];
        snprintf(reason, sizeof(reason), "%s", err);
        if ((status = rollback_to_savepoint(st, err, err_size)) == RDAPSYNC_OK)
            snprintf(err, err_size, "%s", reason);
        goto done;
    }

    /* IGNORE skips a key the table holds with one warning; any other
     * warning is a value IGNORE let in damaged (or a skip we cannot tell
     * from one), and a cut-off count hides which. */
    stored = mysql_affected_rows(st->conn);
    warnings = mysql_warning_count(st->conn);
    uint64_t skipped = stored <= s.sent ? s.sent - stored : 0;
    if (stored > s.sent || warnings > skipped || warnings >= MYS_LOAD_WARNINGS_CAP ||
        (skipped > 0 && st->cfg->mode == RDAPSYNC_SINKTK_APPEND)) {
        /* Append mode too: its statements insert every row again. */
        *result = LOAD_UNDONE;
        if (warnings > 0)
            log_first_warning(st);
        status = rollback_to_savepoint(st, err, err_size);
        goto done;
    }
    tally->loaded += stored;
    tally->applied += stored;
    *result = skipped > 0 || s.too_long ? LOAD_PARTIAL : LOAD_LANDED;
done:
    if (status == RDAPSYNC_OK && *result != LOAD_LANDED && *result != LOAD_REFUSED)
        mys_host->log(st->ctx, RDAPSYNC_LOG_DEBUG,
                      "LOAD DATA of %zu rows (%s): %llu stored, %u warnings; the batch goes through INSERT "
                      "statements",
                      s.sent, *result == LOAD_UNDONE ? "rolled back" : "kept", (unsigned long long)stored, warnings);
    free(sql);
    return status;
}

rdapsync_status mys_load_check_table(mys_state *st, char *err, size_t err_size)
{
    if (st->cfg->method == MYS_METHOD_INSERT || st->load_refused)
        return RDAPSYNC_OK;
    mys_buffer sql = { 0 };
    char transactional[8];
    if (mys_buffer_printf(&sql, "SELECT COUNT(*) FROM information_schema.TABLES t JOIN information_schema.ENGINES e "
                                "ON e.ENGINE = t.ENGINE WHERE e.TRANSACTIONS = 'YES' AND "
                                "t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ") != 0 ||
        mys_text_literal(&sql, st->cfg->table, strlen(st->cfg->table)) != 0) {
        mys_buffer_free(&sql);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = mys_query_value(st->conn, sql.data, transactional, sizeof(transactional), err, err_size);
    mys_buffer_free(&sql);
    if (status != RDAPSYNC_OK || strcmp(transactional, "0") != 0)
        return status;
    if (st->cfg->method == MYS_METHOD_LOAD) {
        snprintf(err, err_size, "method: load needs a transactional table (InnoDB): table %s cannot roll a LOAD "
                 "back to a savepoint", st->names.table);
        return RDAPSYNC_ERROR;
    }
    st->load_refused = true;
    mys_host->log(st->ctx, RDAPSYNC_LOG_WARN,
                  "table %s is not transactional: INSERT statements only (LOAD DATA needs a savepoint to undo)",
                  st->names.table);
    return RDAPSYNC_OK;
}

/* method auto: whether this batch tries LOAD DATA (the pause rule above). */
static bool load_now(mys_state *st)
{
    if (st->cfg->method == MYS_METHOD_INSERT || st->load_refused)
        return false;
    if (st->cfg->method == MYS_METHOD_LOAD || st->load_pause == 0)
        return true;
    st->load_pause--;
    return false;
}

static void note_result(mys_state *st, load_result result)
{
    if (result == LOAD_LANDED) {
        st->load_backoff = 1;
        return;
    }
    st->load_pause = st->load_backoff ? st->load_backoff : 1;
    st->load_backoff = st->load_pause < MYS_LOAD_MAX_PAUSE / 2 ? st->load_pause * 2 : MYS_LOAD_MAX_PAUSE;
}

rdapsync_status mys_load_apply(mys_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                               mys_tally *tally, char *err, size_t err_size)
{
    if (rows->count == 0 || !load_now(st))
        return mys_apply(st, rows, rejects, tally, err, err_size);

    load_result result = LOAD_LANDED;
    rdapsync_status status = load_batch(st, rows, tally, &result, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    if (result == LOAD_REFUSED) {
        if (st->cfg->method == MYS_METHOD_LOAD) {
            size_t len = strlen(err);
            snprintf(err + len, err_size - len, " (method: load needs LOAD DATA LOCAL INFILE; method: auto or "
                                                "insert works without it)");
            return RDAPSYNC_ERROR;
        }
        st->load_refused = true;
        mys_host->log(st->ctx, RDAPSYNC_LOG_WARN,
                      "LOAD DATA LOCAL INFILE is refused (%s): INSERT statements for the rest of the run", err);
    } else if (st->cfg->method == MYS_METHOD_AUTO) {
        note_result(st, result);
    }
    if (result == LOAD_LANDED)
        return RDAPSYNC_OK;

    tally->load_fallbacks += result != LOAD_REFUSED;
    mys_tally statements = { 0 };
    status = mys_apply(st, rows, rejects, &statements, err, err_size);
    /* The rows LOAD DATA stored come back with the same version, and the
     * guard keeps them out: they are counted once, as loaded, not as stale. */
    uint64_t loaded_again = result == LOAD_PARTIAL ? tally->loaded : 0;
    tally->applied += statements.applied;
    tally->stale += statements.stale >= loaded_again ? statements.stale - loaded_again : 0;
    tally->statements += statements.statements;
    tally->resent += statements.resent;
    return status;
}
