/*
 * The multi-value register's tables (conflicts: {...}; rdapsync/sinktk.h,
 * "Multi-value register"): <table>_heads keeps each key's heads as the
 * toolkit's JSON text, the key's row in the data table shows the visible
 * document, the conflict log keeps one row per key that had several heads.
 *
 * Multi-row statements like the data path's, cut at the statement size:
 * one SELECT ... IN for the heads of a write's keys, then the heads, the
 * rows and the log. All inside the flush's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

#define MYS_NOW "CURRENT_TIMESTAMP(3)"

rdapsync_status mys_mvr_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size)
{
    char *heads = mys_printf("CREATE TABLE IF NOT EXISTS %s (%s VARBINARY(%d) NOT NULL, heads LONGTEXT CHARACTER SET "
                             "utf8mb4 COLLATE utf8mb4_bin NOT NULL, PRIMARY KEY (%s)) ENGINE=InnoDB",
                             names->heads, names->key, MYS_KEY_BYTES, names->key);
    char *log = mys_printf("CREATE TABLE IF NOT EXISTS %s (%s VARBINARY(%d) NOT NULL, heads LONGTEXT CHARACTER SET "
                           "utf8mb4 COLLATE utf8mb4_bin NOT NULL, strategy VARCHAR(32) NOT NULL, detected_at "
                           "TIMESTAMP(3) NOT NULL DEFAULT " MYS_NOW ", resolved_at TIMESTAMP(3) NULL, "
                           "PRIMARY KEY (%s)) ENGINE=InnoDB",
                           names->conflicts, names->key, MYS_KEY_BYTES, names->key);
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!heads || !log)
        snprintf(err, err_size, "out of memory");
    else if ((status = mys_exec(conn, heads, err, err_size)) == RDAPSYNC_OK)
        status = mys_exec(conn, log, err, err_size);
    free(heads);
    free(log);
    return status;
}

static rdapsync_status failed(MYSQL *conn, char *err, size_t err_size)
{
    char reason[512];
    mys_error_text(conn, reason, sizeof reason);
    snprintf(err, err_size, "conflicts tables: %s", reason);
    mys_failure failure = mys_classify(mysql_errno(conn));
    /* Not one record's fault: the write fails as a whole. */
    return mys_failure_status(failure == MYS_FAIL_DATA ? MYS_FAIL_FATAL : failure);
}

static rdapsync_status out_of_memory(char *err, size_t err_size)
{
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

static rdapsync_status run_sql(MYSQL *conn, const mys_buffer *sql, char *err, size_t err_size)
{
    if (mysql_real_query(conn, sql->data, (unsigned long)sql->len) != 0)
        return failed(conn, err, err_size);
    return RDAPSYNC_OK;
}

/* ---- heads_load ---- */

static rdapsync_sinktk_mvr_key *find_key(rdapsync_sinktk_mvr_key *keys, size_t count, const char *key, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (keys[i].record->key_len == len && memcmp(keys[i].record->key, key, len) == 0)
            return &keys[i];
    return NULL;
}

/* Reads one SELECT's rows into the keys. */
static rdapsync_status read_heads(MYSQL *conn, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                  size_t err_size)
{
    MYSQL_RES *res = mysql_store_result(conn);
    if (!res)
        return failed(conn, err, err_size);
    rdapsync_status status = RDAPSYNC_OK;
    MYSQL_ROW row;
    while (status == RDAPSYNC_OK && (row = mysql_fetch_row(res))) {
        unsigned long *lengths = mysql_fetch_lengths(res);
        rdapsync_sinktk_mvr_key *key = find_key(keys, count, row[0], lengths[0]);
        if (!key || !row[1])
            continue;
        if (!(key->stored = malloc(lengths[1] + 1))) {
            status = out_of_memory(err, err_size);
            break;
        }
        memcpy(key->stored, row[1], lengths[1]);
        key->stored[lengths[1]] = '\0';
        key->stored_len = lengths[1];
    }
    mysql_free_result(res);
    return status;
}

rdapsync_status mys_mvr_load(mys_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    mys_buffer sql = { 0 };
    rdapsync_status status = RDAPSYNC_OK;
    size_t first = 0;
    for (size_t i = 0; status == RDAPSYNC_OK && i < count; i++) {
        if (i == first && mys_buffer_printf(&sql, "SELECT %s, heads FROM %s WHERE %s IN (", st->names.key,
                                            st->names.heads, st->names.key) != 0)
            goto oom;
        if ((i > first && mys_buffer_append(&sql, ",", 1) != 0) ||
            mys_text_literal(&sql, keys[i].record->key, keys[i].record->key_len) != 0)
            goto oom;
        if (i + 1 < count && sql.len < st->max_statement / 2)
            continue;
        if (mys_buffer_append(&sql, ")", 1) != 0)
            goto oom;
        if ((status = run_sql(st->conn, &sql, err, err_size)) == RDAPSYNC_OK)
            status = read_heads(st->conn, keys + first, i + 1 - first, err, err_size);
        sql.len = 0;
        first = i + 1;
    }
    mys_buffer_free(&sql);
    return status;
oom:
    mys_buffer_free(&sql);
    return out_of_memory(err, err_size);
}

/* ---- heads_write ---- */

static int append_int(mys_buffer *b, long long value)
{
    return mys_buffer_printf(b, "%lld", value);
}

static int heads_tuple(mys_buffer *b, const rdapsync_sinktk_mvr_key *k)
{
    return mys_buffer_append(b, "(", 1) | mys_text_literal(b, k->record->key, k->record->key_len) |
           mys_buffer_append(b, ",", 1) | mys_text_literal(b, k->heads, strlen(k->heads)) |
           mys_buffer_append(b, ")", 1);
}

static int live_tuple(mys_buffer *b, const rdapsync_sinktk_mvr_key *k)
{
    const rdapsync_record *r = k->record;
    const char *stream = r->position.stream;
    return mys_buffer_append(b, "(", 1) | mys_text_literal(b, r->key, r->key_len) | mys_buffer_append(b, ",", 1) |
           mys_text_literal(b, k->doc, k->doc ? strlen(k->doc) : 0) |
           mys_buffer_append(b, k->doc ? ",FALSE," : ",TRUE,", k->doc ? 7 : 6) |
           append_int(b, k->version.event_time_ms) |
           mys_buffer_append(b, ",", 1) | mys_text_literal(b, k->version.origin, strlen(k->version.origin)) |
           mys_buffer_append(b, ",", 1) | append_int(b, k->version.sequence) | mys_buffer_append(b, ",", 1) |
           mys_text_literal(b, stream, stream ? strlen(stream) : 0) | mys_buffer_append(b, ",", 1) |
           append_int(b, r->position.partition) | mys_buffer_append(b, ",", 1) | append_int(b, r->position.offset) |
           mys_buffer_append(b, ")", 1);
}

static int open_tuple(mys_buffer *b, const rdapsync_sinktk_mvr_key *k, const char *strategy)
{
    return mys_buffer_append(b, "(", 1) | mys_text_literal(b, k->record->key, k->record->key_len) |
           mys_buffer_append(b, ",", 1) | mys_text_literal(b, k->log_heads, strlen(k->log_heads)) |
           mys_buffer_append(b, ",", 1) | mys_text_literal(b, strategy, strlen(strategy)) |
           mys_buffer_append(b, ")", 1);
}

/* One kind of multi-row statement over the keys that `want` selects. */
typedef struct statement {
    const char *head, *tail;
    bool (*want)(const rdapsync_sinktk_mvr_key *k);
    int (*tuple)(mys_buffer *b, const rdapsync_sinktk_mvr_key *k, const char *strategy);
} statement;

static bool any_key(const rdapsync_sinktk_mvr_key *k)
{
    (void)k;
    return true;
}

static bool opens(const rdapsync_sinktk_mvr_key *k)
{
    return k->log == RDAPSYNC_SINKTK_LOG_OPEN;
}

static int heads_row(mys_buffer *b, const rdapsync_sinktk_mvr_key *k, const char *strategy)
{
    (void)strategy;
    return heads_tuple(b, k);
}

static int live_row(mys_buffer *b, const rdapsync_sinktk_mvr_key *k, const char *strategy)
{
    (void)strategy;
    return live_tuple(b, k);
}

static rdapsync_status run_statement(mys_state *st, const statement *s, const rdapsync_sinktk_mvr_key *keys,
                                     size_t count, mys_buffer *sql, char *err, size_t err_size)
{
    const char *strategy = rdapsync_sinktk_strategy_names[st->conflicts->strategy];
    size_t rows = 0;
    sql->len = 0;
    for (size_t i = 0; i < count; i++) {
        if (!s->want(&keys[i]))
            continue;
        if ((rows == 0 ? mys_buffer_append(sql, s->head, strlen(s->head)) : mys_buffer_append(sql, ",", 1)) != 0 ||
            s->tuple(sql, &keys[i], strategy) != 0)
            return out_of_memory(err, err_size);
        rows++;
        if (sql->len < st->max_statement / 2 && i + 1 < count)
            continue;
        rdapsync_status status;
        if (mys_buffer_append(sql, s->tail, strlen(s->tail)) != 0)
            return out_of_memory(err, err_size);
        if ((status = run_sql(st->conn, sql, err, err_size)) != RDAPSYNC_OK)
            return status;
        sql->len = 0;
        rows = 0;
    }
    if (rows == 0)
        return RDAPSYNC_OK;
    if (mys_buffer_append(sql, s->tail, strlen(s->tail)) != 0)
        return out_of_memory(err, err_size);
    return run_sql(st->conn, sql, err, err_size);
}

/* The log rows that a dominating version resolves: one UPDATE each (few). */
static rdapsync_status resolve(mys_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, mys_buffer *sql,
                               char *err, size_t err_size)
{
    for (size_t i = 0; i < count; i++) {
        const rdapsync_sinktk_mvr_key *k = &keys[i];
        if (k->log != RDAPSYNC_SINKTK_LOG_RESOLVE)
            continue;
        sql->len = 0;
        if (mys_buffer_printf(sql, "UPDATE %s SET heads = ", st->names.conflicts) != 0 ||
            mys_text_literal(sql, k->log_heads, strlen(k->log_heads)) != 0 ||
            mys_buffer_printf(sql, ", resolved_at = " MYS_NOW " WHERE resolved_at IS NULL AND %s = ",
                              st->names.key) != 0 ||
            mys_text_literal(sql, k->record->key, k->record->key_len) != 0)
            return out_of_memory(err, err_size);
        rdapsync_status status = run_sql(st->conn, sql, err, err_size);
        if (status != RDAPSYNC_OK)
            return status;
    }
    return RDAPSYNC_OK;
}

rdapsync_status mys_mvr_write(mys_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size)
{
    const mys_names *n = &st->names;
    char *heads_head = mys_printf("INSERT INTO %s (%s, heads) VALUES ", n->heads, n->key);
    char *live_head = mys_printf("INSERT INTO %s (%s, doc, deleted, event_time_ms, origin, seq, src_stream, "
                                 "src_partition, src_offset) VALUES ",
                                 n->table, n->key);
    char *open_head = mys_printf("INSERT INTO %s (%s, heads, strategy) VALUES ", n->conflicts, n->key);
    mys_buffer sql = { 0 };
    rdapsync_status status;
    if (!heads_head || !live_head || !open_head) {
        status = out_of_memory(err, err_size);
        goto done;
    }
    /* The visible row goes without the version guard: its version is the
     * shown head's, which may be older than the row's. In the log,
     * assignments run left to right: detected_at reads the old
     * resolved_at before it is cleared (a resolved row that conflicts
     * again starts a new detection). */
    const statement statements[] = {
        { heads_head, " ON DUPLICATE KEY UPDATE heads = VALUES(heads)", any_key, heads_row },
        { live_head,
          " ON DUPLICATE KEY UPDATE doc = VALUES(doc), deleted = VALUES(deleted), event_time_ms = "
          "VALUES(event_time_ms), origin = VALUES(origin), seq = VALUES(seq), src_stream = VALUES(src_stream), "
          "src_partition = VALUES(src_partition), src_offset = VALUES(src_offset), updated_at = " MYS_NOW,
          any_key, live_row },
        { open_head,
          " ON DUPLICATE KEY UPDATE detected_at = IF(resolved_at IS NULL, detected_at, " MYS_NOW "), "
          "resolved_at = NULL, heads = VALUES(heads), strategy = VALUES(strategy)",
          opens, open_tuple },
    };
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++)
        if ((status = run_statement(st, &statements[i], keys, count, &sql, err, err_size)) != RDAPSYNC_OK)
            goto done;
    status = resolve(st, keys, count, &sql, err, err_size);
done:
    mys_buffer_free(&sql);
    free(heads_head);
    free(live_head);
    free(open_head);
    return status;
}

rdapsync_status mys_mvr_open_count(mys_state *st, uint64_t *count, char *err, size_t err_size)
{
    char *sql = mys_printf("SELECT count(*) FROM %s WHERE resolved_at IS NULL", st->names.conflicts);
    if (!sql)
        return out_of_memory(err, err_size);
    char value[32];
    rdapsync_status status = mys_query_value(st->conn, sql, value, sizeof value, err, err_size);
    free(sql);
    if (status == RDAPSYNC_OK)
        *count = strtoull(value, NULL, 10);
    return status;
}
