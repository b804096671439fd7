/*
 * The table the sink writes and the fixed parts of the statement that
 * writes it: the PostgreSQL sink's shape in MySQL's types.
 *
 * Upsert mode keeps one row per key and never forgets a version: a delete
 * turns the row into a tombstone (deleted = TRUE, doc NULL) that keeps the
 * delete's version, so an older upsert replayed later cannot bring the key
 * back. The view <table>_live shows the rows that are not tombstones.
 * Append mode adds one row per change.
 *
 * Keys and origins are VARBINARY: compared byte by byte with no trailing
 * space padding (MariaDB's utf8mb4_bin pads: "a" = "a " there), the version
 * order of the SDK on every server flavour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

/* Serializes schema creation across tasks and processes starting together. */
#define MYS_SCHEMA_LOCK "SELECT GET_LOCK('rdapsync_schema', 30)"
#define MYS_SCHEMA_UNLOCK "SELECT RELEASE_LOCK('rdapsync_schema')"

int mys_names_build(const mys_config *cfg, const char *history, const char *conflicts, mys_names *names)
{
    memset(names, 0, sizeof(*names));
    if (history && !(names->history = mys_quote_ident(history)))
        return -1;
    if (conflicts) {
        char *heads = mys_printf("%s_heads", cfg->table);
        names->heads = heads ? mys_quote_ident(heads) : NULL;
        names->conflicts = mys_quote_ident(conflicts);
        free(heads);
        if (!names->heads || !names->conflicts) {
            mys_names_free(names);
            return -1;
        }
    }
    char *live = mys_printf("%s_live", cfg->table);
    names->table = mys_quote_ident(cfg->table);
    names->key = mys_quote_ident(cfg->key_column);
    names->positions = mys_quote_ident(cfg->positions_table);
    names->live_view = live ? mys_quote_ident(live) : NULL;
    free(live);
    if (!names->table || !names->key || !names->positions || !names->live_view) {
        mys_names_free(names);
        return -1;
    }
    return 0;
}

void mys_names_free(mys_names *names)
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

static char *create_table_sql(const mys_config *cfg, const mys_names *names)
{
    bool upsert = cfg->mode == RDAPSYNC_SINKTK_UPSERT;
    /* MariaDB's JSON is LONGTEXT with a json_valid() check; MySQL's is a
     * binary type. LONGTEXT skips the check (the sink only writes JSON it
     * serialized itself). */
    const char *doc = cfg->doc_type == MYS_DOC_JSON ? "JSON" : "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
    return mys_printf("CREATE TABLE IF NOT EXISTS %s ("
                      "%s%s VARBINARY(%d) %s, "
                      "doc %s NULL, "
                      "deleted BOOLEAN NOT NULL DEFAULT FALSE, "
                      "event_time_ms BIGINT NOT NULL, "
                      "origin VARBINARY(%d) NOT NULL DEFAULT '', "
                      "seq BIGINT NOT NULL, "
                      "src_stream TEXT CHARACTER SET utf8mb4 NULL, "
                      "src_partition INT NULL, "
                      "src_offset BIGINT NULL, "
                      "updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), "
                      "PRIMARY KEY (%s)"
                      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                      names->table, upsert ? "" : "id BIGINT NOT NULL AUTO_INCREMENT, ", names->key, MYS_KEY_BYTES,
                      upsert ? "NOT NULL" : "NULL", doc, MYS_ORIGIN_BYTES, upsert ? names->key : "id");
}

static char *create_view_sql(const mys_names *names)
{
    return mys_printf("CREATE OR REPLACE VIEW %s AS SELECT %s, doc, event_time_ms, origin, seq, src_stream, "
                      "src_partition, src_offset, updated_at FROM %s WHERE NOT deleted",
                      names->live_view, names->key, names->table);
}

rdapsync_status mys_schema_ensure(MYSQL *conn, const mys_config *cfg, const mys_names *names, char *err,
                                  size_t err_size)
{
    rdapsync_status status = RDAPSYNC_OK;
    char *table_sql = NULL, *view_sql = NULL;

    if (!cfg->create_table)
        return RDAPSYNC_OK;
    table_sql = create_table_sql(cfg, names);
    view_sql = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? create_view_sql(names) : NULL;
    if (!table_sql || (cfg->mode == RDAPSYNC_SINKTK_UPSERT && !view_sql)) {
        snprintf(err, err_size, "out of memory");
        status = RDAPSYNC_ERROR;
        goto done;
    }
    if ((status = mys_exec(conn, MYS_SCHEMA_LOCK, err, err_size)) != RDAPSYNC_OK)
        goto done;
    status = mys_exec(conn, table_sql, err, err_size);
    if (status == RDAPSYNC_OK && view_sql)
        status = mys_exec(conn, view_sql, err, err_size);
    char ignored[128];
    mys_exec(conn, MYS_SCHEMA_UNLOCK, ignored, sizeof(ignored));
done:
    free(table_sql);
    free(view_sql);
    return status;
}

/* The version guard in ON DUPLICATE KEY UPDATE, where each assignment sees
 * the columns assigned before it (MySQL and MariaDB evaluate left to right;
 * MariaDB's SIMULTANEOUS_ASSIGNMENT mode shows old values instead). Every
 * column is set only if the new version is greater than the stored one:
 *   - first the plain columns, each comparing the full old version;
 *   - then seq (full version, still old);
 *   - then origin, comparing (event time, origin) only: if the version won
 *     on seq alone, origin and event time are equal and stay so;
 *   - then event time, comparing event time only, for the same reason.
 * So the outcome is the same under both evaluation orders. */
#define GUARD "(VALUES(event_time_ms), VALUES(origin), VALUES(seq)) > (event_time_ms, origin, seq)"

static const char upsert_tail[] =
    " ON DUPLICATE KEY UPDATE"
    " doc = IF(" GUARD ", VALUES(doc), doc),"
    " deleted = IF(" GUARD ", VALUES(deleted), deleted),"
    " src_stream = IF(" GUARD ", VALUES(src_stream), src_stream),"
    " src_partition = IF(" GUARD ", VALUES(src_partition), src_partition),"
    " src_offset = IF(" GUARD ", VALUES(src_offset), src_offset),"
    " updated_at = IF(" GUARD ", CURRENT_TIMESTAMP(3), updated_at),"
    " seq = IF(" GUARD ", VALUES(seq), seq),"
    " origin = IF((VALUES(event_time_ms), VALUES(origin)) > (event_time_ms, origin), VALUES(origin), origin),"
    " event_time_ms = IF(VALUES(event_time_ms) > event_time_ms, VALUES(event_time_ms), event_time_ms)";

int mys_schema_statement(const mys_config *cfg, const mys_names *names, char **head, char **tail)
{
    *head = mys_printf("INSERT INTO %s (%s, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, "
                       "src_offset) VALUES ",
                       names->table, names->key);
    *tail = strdup(cfg->mode == RDAPSYNC_SINKTK_UPSERT ? upsert_tail : "");
    if (!*head || !*tail) {
        free(*head);
        free(*tail);
        *head = *tail = NULL;
        return -1;
    }
    return 0;
}
