/*
 * The table the sink writes and the SQL that writes it: the PostgreSQL
 * sink's shape in SQLite's types.
 *
 * Upsert mode keeps one row per key and never forgets a version: a delete
 * turns the row into a tombstone (deleted = 1, doc NULL) that keeps the
 * delete's version, so an older upsert replayed later cannot bring the key
 * back. The view <table>_live shows the rows that are not tombstones.
 * Append mode adds one row per change.
 *
 * Keys and origins are TEXT with SQLite's default BINARY collation, which
 * compares bytes (memcmp): the version order of the SDK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

/* ISO 8601 UTC with milliseconds, like the other sinks' updated_at; for
 * printf formats (hence the doubled %). */
#define SQS_NOW "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now')"

int sqs_names_build(const sqs_config *cfg, const char *history, const char *conflicts, sqs_names *names)
{
    memset(names, 0, sizeof(*names));
    if (history && !(names->history = sqs_quote_ident(history)))
        return -1;
    if (conflicts) {
        char *heads = sqs_printf("%s_heads", cfg->table);
        names->heads = heads ? sqs_quote_ident(heads) : NULL;
        names->conflicts = sqs_quote_ident(conflicts);
        free(heads);
        if (!names->heads || !names->conflicts) {
            sqs_names_free(names);
            return -1;
        }
    }
    char *live = sqs_printf("%s_live", cfg->table);
    names->table = sqs_quote_ident(cfg->table);
    names->key = sqs_quote_ident(cfg->key_column);
    names->positions = sqs_quote_ident(cfg->positions_table);
    names->live_view = live ? sqs_quote_ident(live) : NULL;
    free(live);
    if (!names->table || !names->key || !names->positions || !names->live_view) {
        sqs_names_free(names);
        return -1;
    }
    return 0;
}

void sqs_names_free(sqs_names *names)
{
    free(names->table);
    free(names->key);
    free(names->positions);
    free(names->live_view);
    free(names->history);
    free(names->heads);
    free(names->conflicts);
    memset(names, 0, sizeof(*names));
}

static char *create_table_sql(const sqs_config *cfg, const sqs_names *names)
{
    bool upsert = cfg->mode == RDAPSYNC_SINKTK_UPSERT;
    return sqs_printf("CREATE TABLE IF NOT EXISTS %s ("
                      "%s%s TEXT%s, "
                      "doc TEXT, "
                      "deleted INTEGER NOT NULL DEFAULT 0, "
                      "event_time_ms INTEGER NOT NULL, "
                      "origin TEXT NOT NULL DEFAULT '', "
                      "seq INTEGER NOT NULL, "
                      "src_stream TEXT, "
                      "src_partition INTEGER, "
                      "src_offset INTEGER, "
                      "updated_at TEXT NOT NULL DEFAULT (" SQS_NOW "))",
                      names->table, upsert ? "" : "id INTEGER PRIMARY KEY, ", names->key,
                      upsert ? " PRIMARY KEY NOT NULL" : "");
}

static char *create_view_sql(const sqs_names *names)
{
    return sqs_printf("CREATE VIEW IF NOT EXISTS %s AS SELECT %s, doc, event_time_ms, origin, seq, src_stream, "
                      "src_partition, src_offset, updated_at FROM %s WHERE NOT deleted",
                      names->live_view, names->key, names->table);
}

rdapsync_status sqs_schema_ensure(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, char *err,
                                  size_t err_size)
{
    rdapsync_status status;

    if (!cfg->create_table)
        return RDAPSYNC_OK;
    char *table_sql = create_table_sql(cfg, names);
    char *view_sql = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? create_view_sql(names) : NULL;
    if (!table_sql || (cfg->mode == RDAPSYNC_SINKTK_UPSERT && !view_sql)) {
        snprintf(err, err_size, "out of memory");
        status = RDAPSYNC_ERROR;
        goto done;
    }
    if ((status = sqs_exec(db, "BEGIN IMMEDIATE", err, err_size)) != RDAPSYNC_OK)
        goto done;
    if ((status = sqs_exec(db, table_sql, err, err_size)) != RDAPSYNC_OK ||
        (view_sql && (status = sqs_exec(db, view_sql, err, err_size)) != RDAPSYNC_OK)) {
        char ignored[64];
        sqs_exec(db, "ROLLBACK", ignored, sizeof(ignored));
        goto done;
    }
    status = sqs_exec(db, "COMMIT", err, err_size);
done:
    free(table_sql);
    free(view_sql);
    return status;
}

/* The version guard: a row changes only for a strictly greater
 * (event time, origin, sequence). Row values compare left to right; the
 * explicit BINARY keeps origins bytewise whatever a user-made table says.
 * The register's row goes without it: its version is the visible head's,
 * which may be older than the row's (region-priority, a resolution). */
char *sqs_upsert_sql(const sqs_names *names, bool guarded)
{
    char *guard = guarded ? sqs_printf(" WHERE (excluded.event_time_ms, excluded.origin COLLATE BINARY, excluded.seq) > "
                                       "(%1$s.event_time_ms, %1$s.origin COLLATE BINARY, %1$s.seq)",
                                       names->table)
                          : strdup("");
    char *sql = guard ? sqs_printf("INSERT INTO %1$s (%2$s, doc, deleted, event_time_ms, origin, seq, src_stream, "
                                   "src_partition, src_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                                   "ON CONFLICT (%2$s) DO UPDATE SET doc = excluded.doc, deleted = excluded.deleted, "
                                   "event_time_ms = excluded.event_time_ms, origin = excluded.origin, seq = excluded.seq, "
                                   "src_stream = excluded.src_stream, src_partition = excluded.src_partition, "
                                   "src_offset = excluded.src_offset, updated_at = " SQS_NOW "%3$s",
                                   names->table, names->key, guard)
                      : NULL;
    free(guard);
    return sql;
}

static char *append_sql(const sqs_names *names)
{
    return sqs_printf("INSERT INTO %s (%s, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, "
                      "src_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                      names->table, names->key);
}

rdapsync_status sqs_schema_prepare(sqlite3 *db, const sqs_config *cfg, const sqs_names *names, sqlite3_stmt **out,
                                   char *err, size_t err_size)
{
    char *sql = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? sqs_upsert_sql(names, true) : append_sql(names);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    free(sql);
    if (rc == SQLITE_OK)
        return RDAPSYNC_OK;
    char reason[512];
    sqs_error_text(db, rc, reason, sizeof(reason));
    /* "no such table", "ON CONFLICT clause does not match any PRIMARY KEY
     * or UNIQUE constraint": the table is not the sink's shape. */
    snprintf(err, err_size, "cannot prepare the write statement on table %s: %s%s", names->table, reason,
             cfg->create_table ? "" : " (create_table is false: the table must exist with the documented columns)");
    return sqs_failure_status(sqs_classify(rc));
}
