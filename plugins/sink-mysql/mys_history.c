/*
 * The history table (history: { table: NAME }): every applied version of a
 * key, appended in the flush's transaction, with valid_from/valid_to
 * (rdapsync/sinktk.h, "History tables"; docs/schema-and-history.md).
 * Multi-row INSERT ... ON DUPLICATE KEY UPDATE seq = seq (a no-op on a
 * version already there: replays add nothing, and unlike INSERT IGNORE no
 * other error is hidden), then one UPDATE per statement-full of keys
 * recomputes valid_to (MariaDB 10.3+ reads the table it updates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

#define MYS_SCHEMA_LOCK "SELECT GET_LOCK('rdapsync_schema', 30)"
#define MYS_SCHEMA_UNLOCK "SELECT RELEASE_LOCK('rdapsync_schema')"

rdapsync_status mys_history_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size)
{
    char *sql = mys_printf("CREATE TABLE IF NOT EXISTS %1$s ("
                           "%2$s VARBINARY(%3$d) NOT NULL, "
                           "valid_from BIGINT NOT NULL, "
                           "origin VARBINARY(%4$d) NOT NULL DEFAULT '', "
                           "seq BIGINT NOT NULL, "
                           "valid_to BIGINT NULL, "
                           "deleted BOOLEAN NOT NULL DEFAULT FALSE, "
                           "doc LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, "
                           "retention_until VARCHAR(40) NULL, "
                           "recorded_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), "
                           "PRIMARY KEY (%2$s, valid_from, origin, seq)"
                           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                           names->history, names->key, MYS_KEY_BYTES - 512, MYS_ORIGIN_BYTES);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = mys_exec(conn, MYS_SCHEMA_LOCK, err, err_size);
    if (status == RDAPSYNC_OK) {
        status = mys_exec(conn, sql, err, err_size);
        char ignored[128];
        mys_exec(conn, MYS_SCHEMA_UNLOCK, ignored, sizeof(ignored));
    }
    free(sql);
    return status;
}

typedef struct history_run {
    mys_state *st;
    mys_buffer rows; /* INSERT ... VALUES (...),(...) being built */
    mys_buffer keys; /* UPDATE ... IN (...) being built */
    size_t row_count, key_count;
    char *insert_head;
    char *close_head; /* the UPDATE up to "IN " */
    rdapsync_status status;
    char *err;
    size_t err_size;
} history_run;

static int fail(history_run *run, rdapsync_status status, const char *what)
{
    char reason[512];
    if (status == RDAPSYNC_OK) /* not from the server */
        snprintf(reason, sizeof reason, "%s", what);
    else
        snprintf(reason, sizeof reason, "%s", run->err);
    snprintf(run->err, run->err_size, "history table %s: %s", run->st->names.history, reason);
    /* A version the table refuses is not one record's fault alone. */
    run->status = status == RDAPSYNC_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
    return 1;
}

static int send_rows(history_run *run)
{
    if (!run->row_count)
        return 0;
    if (mys_buffer_append(&run->rows, " ON DUPLICATE KEY UPDATE seq = seq", 34) != 0 ||
        mys_buffer_append(&run->rows, "", 1) != 0)
        return fail(run, RDAPSYNC_OK, "out of memory");
    rdapsync_status status = mys_exec(run->st->conn, run->rows.data, run->err, run->err_size);
    run->rows.len = 0;
    run->row_count = 0;
    return status == RDAPSYNC_OK ? 0 : fail(run, status, NULL);
}

static int send_keys(history_run *run)
{
    if (!run->key_count)
        return 0;
    /* The rows of these keys must be in before their intervals are computed. */
    if (send_rows(run) != 0)
        return 1;
    if (mys_buffer_append(&run->keys, ")", 2) != 0)
        return fail(run, RDAPSYNC_OK, "out of memory");
    rdapsync_status status = mys_exec(run->st->conn, run->keys.data, run->err, run->err_size);
    run->keys.len = 0;
    run->key_count = 0;
    return status == RDAPSYNC_OK ? 0 : fail(run, status, NULL);
}

static int append_int(mys_buffer *buf, long long value, const char *suffix)
{
    return mys_buffer_printf(buf, "%lld%s", value, suffix);
}

static int one_version(const rdapsync_record *record, bool last, void *opaque)
{
    history_run *run = opaque;
    mys_buffer *b = &run->rows;
    bool deleted = record->op == RDAPSYNC_OP_DELETE;
    const char *origin = record->version.origin ? record->version.origin : "";
    const char *retention = rdapsync_sinktk_retention_until(mys_host, record->value);
    size_t doc_len = 0;
    char *doc = deleted ? NULL : mys_host->json->dump(record->value, 0, &doc_len);

    if (!deleted && !doc)
        return fail(run, RDAPSYNC_OK, "out of memory");
    int rc = mys_buffer_append(b, run->row_count ? "," : run->insert_head,
                               run->row_count ? 1 : strlen(run->insert_head));
    rc = rc ? rc : mys_buffer_append(b, "(", 1);
    rc = rc ? rc : mys_text_literal(b, record->key, record->key_len);
    rc = rc ? rc : mys_buffer_append(b, ",", 1);
    rc = rc ? rc : append_int(b, (long long)record->version.event_time_ms, ",");
    rc = rc ? rc : mys_text_literal(b, origin, strlen(origin));
    rc = rc ? rc : mys_buffer_append(b, ",", 1);
    rc = rc ? rc : append_int(b, (long long)record->version.sequence, deleted ? ",TRUE," : ",FALSE,");
    rc = rc ? rc : mys_text_literal(b, doc, doc_len);
    rc = rc ? rc : mys_buffer_append(b, ",", 1);
    rc = rc ? rc : mys_text_literal(b, retention, retention ? strlen(retention) : 0);
    rc = rc ? rc : mys_buffer_append(b, ")", 1);
    mys_host->free(doc);
    if (rc != 0)
        return fail(run, RDAPSYNC_OK, "out of memory");
    run->row_count++;
    if (last) {
        mys_buffer *k = &run->keys;
        rc = mys_buffer_append(k, run->key_count ? "," : run->close_head,
                               run->key_count ? 1 : strlen(run->close_head));
        rc = rc ? rc : mys_text_literal(k, record->key, record->key_len);
        if (rc != 0)
            return fail(run, RDAPSYNC_OK, "out of memory");
        run->key_count++;
    }
    size_t limit = run->st->max_statement ? run->st->max_statement / 2 : 1024 * 1024;
    if (run->keys.len > limit)
        return send_keys(run);
    if (run->rows.len > limit && send_rows(run) != 0)
        return 1;
    return 0;
}

rdapsync_status mys_history_apply(mys_state *st, const rdapsync_sinktk_plan *plan,
                                  const rdapsync_sinktk_rejects *rejects, char *err, size_t err_size)
{
    history_run run = {.st = st, .status = RDAPSYNC_OK, .err = err, .err_size = err_size};
    run.insert_head = rdapsync_sinktk_history_insert_head(st->names.history, st->names.key);
    run.close_head = rdapsync_sinktk_history_close_sql(st->names.history, st->names.key, "IN (");
    if (!run.insert_head || !run.close_head)
        fail(&run, RDAPSYNC_OK, "out of memory");
    else if (rdapsync_sinktk_history_each(plan, rejects, one_version, &run) == 0)
        send_keys(&run);
    free(run.insert_head);
    free(run.close_head);
    mys_buffer_free(&run.rows);
    mys_buffer_free(&run.keys);
    return run.status;
}
