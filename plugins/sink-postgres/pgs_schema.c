/*
 * The table the sink writes and the SQL that writes it.
 *
 * Upsert mode keeps one row per key and never forgets a version: a delete
 * turns the row into a tombstone (deleted = true, doc NULL) that keeps the
 * delete's version, so an older upsert replayed later cannot bring the key
 * back. The view <table>_live shows the rows that are not tombstones.
 * Append mode adds one row per change, with an identity column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

static char *qualify(const char *schema, const char *name)
{
    char *qname = pgs_quote_ident(name);
    if (!qname || !schema || !*schema)
        return qname;
    char *qschema = pgs_quote_ident(schema);
    char *out = qschema ? pgs_printf("%s.%s", qschema, qname) : NULL;
    free(qschema);
    free(qname);
    return out;
}

int pgs_names_build(const pgs_config *cfg, const char *history, const char *conflicts, pgs_names *names)
{
    memset(names, 0, sizeof(*names));
    if (history && !(names->history = qualify(cfg->schema, history)))
        return -1;
    if (conflicts) {
        bool fits = strlen(cfg->table) + strlen("_heads") <= PGS_MAX_IDENT;
        char *heads = fits ? pgs_printf("%s_heads", cfg->table) : NULL;
        names->heads = heads ? qualify(cfg->schema, heads) : NULL;
        names->conflicts = qualify(cfg->schema, conflicts);
        free(heads);
        if ((fits && !names->heads) || !names->conflicts) {
            pgs_names_free(names);
            return -1;
        }
    }
    char *live = pgs_printf("%s_live", cfg->table);
    names->table = qualify(cfg->schema, cfg->table);
    names->key = pgs_quote_ident(cfg->key_column);
    names->positions = qualify(cfg->schema, cfg->positions_table);
    names->live_view = live ? qualify(cfg->schema, live) : NULL;
    free(live);
    if (!names->table || !names->key || !names->positions || !names->live_view) {
        pgs_names_free(names);
        return -1;
    }
    return 0;
}

void pgs_names_free(pgs_names *names)
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

const char *pgs_schema_columns(int mode)
{
    (void)mode;
    return "doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset";
}

/* Whether the server was built with lz4 (PostgreSQL 14+ lists it among the
 * values of default_toast_compression only then). */
static bool server_has_lz4(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                                 "AND 'lz4' = ANY(enumvals)");
    bool has = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    PQclear(res);
    return has;
}

const char *pgs_schema_compression(PGconn *conn, int compression)
{
    switch (compression) {
    case PGS_COMPRESSION_PGLZ: return " COMPRESSION pglz";
    case PGS_COMPRESSION_LZ4: return " COMPRESSION lz4";
    /* pglz costs about half of the server's time on ~4 KB documents. */
    case PGS_COMPRESSION_AUTO: return server_has_lz4(conn) ? " COMPRESSION lz4" : "";
    default: return "";
    }
}

static char *create_table_sql(PGconn *conn, const pgs_config *cfg, const pgs_names *names)
{
    const char *key_def = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? "text PRIMARY KEY" : "text";
    const char *id_def =
        cfg->mode == RDAPSYNC_SINKTK_APPEND ? "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, " : "";
    return pgs_printf("CREATE TABLE IF NOT EXISTS %s ("
                      "%s%s %s, "
                      "doc jsonb%s, "
                      "deleted boolean NOT NULL DEFAULT false, "
                      "event_time_ms bigint NOT NULL, "
                      "origin text COLLATE \"C\" NOT NULL DEFAULT '', "
                      "seq bigint NOT NULL, "
                      "src_stream text, "
                      "src_partition integer, "
                      "src_offset bigint, "
                      "updated_at timestamptz NOT NULL DEFAULT now())",
                      names->table, id_def, names->key, key_def, pgs_schema_compression(conn, cfg->compression));
}

static char *create_view_sql(const pgs_names *names)
{
    return pgs_printf("CREATE OR REPLACE VIEW %s AS SELECT %s, doc, event_time_ms, origin, seq, src_stream, "
                      "src_partition, src_offset, updated_at FROM %s WHERE NOT deleted",
                      names->live_view, names->key, names->table);
}

rdapsync_status pgs_schema_ensure(PGconn *conn, const pgs_config *cfg, const pgs_names *names, char *err,
                                  size_t err_size)
{
    rdapsync_status status = RDAPSYNC_OK;
    char *schema_sql = NULL, *table_sql = NULL, *storage_sql = NULL, *view_sql = NULL;

    if (!cfg->create_table)
        return RDAPSYNC_OK;
    if (cfg->schema && *cfg->schema) {
        char *qschema = pgs_quote_ident(cfg->schema);
        schema_sql = qschema ? pgs_printf("CREATE SCHEMA IF NOT EXISTS %s", qschema) : NULL;
        free(qschema);
        if (!schema_sql)
            goto oom;
    }
    table_sql = create_table_sql(conn, cfg, names);
    storage_sql = pgs_printf("ALTER TABLE %s ALTER doc SET STORAGE MAIN", names->table);
    view_sql = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? create_view_sql(names) : NULL;
    if (!table_sql || !storage_sql || (cfg->mode == RDAPSYNC_SINKTK_UPSERT && !view_sql))
        goto oom;

    if ((status = pgs_exec(conn, "BEGIN", err, err_size)) != RDAPSYNC_OK)
        goto done;
    if ((status = pgs_exec(conn, PGS_SCHEMA_LOCK, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    if (schema_sql && (status = pgs_exec(conn, schema_sql, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    bool created = false;
    if ((status = pgs_ask(conn, PGS_EXISTS_SQL, names->table, &created, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    created = !created;
    if ((status = pgs_exec(conn, table_sql, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    /* A document kept in its row rather than in the TOAST table: an
     * update then writes one row and one index entry instead of also a
     * TOAST row, its index entry and the old ones' deletion (the upserts
     * of ~2 KB documents take 10-20 % less server time; docs/benchmarks.md).
     * Still moved out of line when the row would not fit a page. Only for
     * a table created here: an existing table keeps what its owner chose. */
    if (created && (status = pgs_exec(conn, storage_sql, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    if (view_sql && (status = pgs_exec(conn, view_sql, err, err_size)) != RDAPSYNC_OK)
        goto rollback;
    status = pgs_exec(conn, "COMMIT", err, err_size);
    goto done;

rollback:
    PQclear(PQexec(conn, "ROLLBACK"));
    goto done;
oom:
    snprintf(err, err_size, "out of memory");
    status = RDAPSYNC_ERROR;
done:
    free(schema_sql);
    free(table_sql);
    free(storage_sql);
    free(view_sql);
    return status;
}

char *pgs_schema_conflict_clause(const pgs_names *names)
{
    /* The version guard: a row changes only for a strictly greater
     * (event time, origin, sequence); origin compares bytewise whatever
     * the column's collation. */
    return pgs_printf("ON CONFLICT (%s) DO UPDATE SET doc = EXCLUDED.doc, deleted = EXCLUDED.deleted, "
                      "event_time_ms = EXCLUDED.event_time_ms, origin = EXCLUDED.origin, seq = EXCLUDED.seq, "
                      "src_stream = EXCLUDED.src_stream, src_partition = EXCLUDED.src_partition, "
                      "src_offset = EXCLUDED.src_offset, updated_at = now() "
                      "WHERE (EXCLUDED.event_time_ms, EXCLUDED.origin COLLATE \"C\", EXCLUDED.seq) > "
                      "(cur.event_time_ms, cur.origin COLLATE \"C\", cur.seq)",
                      names->key);
}

static char *write_sql(const pgs_config *cfg, const pgs_names *names)
{
    char *conflict = cfg->mode == RDAPSYNC_SINKTK_UPSERT ? pgs_schema_conflict_clause(names) : NULL;
    if (cfg->mode == RDAPSYNC_SINKTK_UPSERT && !conflict)
        return NULL;
    char *sql = pgs_printf("INSERT INTO %s AS cur (%s, %s) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9) %s",
                           names->table, names->key, pgs_schema_columns(cfg->mode), conflict ? conflict : "");
    free(conflict);
    return sql;
}

static rdapsync_status prepare(PGconn *conn, const char *name, const char *sql, int nparams, char *err,
                               size_t err_size)
{
    PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return RDAPSYNC_OK;
    }
    pgs_error_text(conn, res, err, err_size);
    pgs_failure failure = pgs_classify(conn, res);
    PQclear(res);
    return pgs_failure_status(failure);
}

rdapsync_status pgs_schema_prepare(PGconn *conn, const pgs_config *cfg, const pgs_names *names, char *err,
                                   size_t err_size)
{
    char *sql = write_sql(cfg, names);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = prepare(conn, PGS_STMT_WRITE, sql, PGS_P_COUNT, err, err_size);
    free(sql);
    if (status != RDAPSYNC_OK || !cfg->exactly_once)
        return status;

    sql = pgs_printf("INSERT INTO %s (pipeline, task, stream, \"partition\", \"offset\") VALUES ($1, $2, $3, $4, $5) "
                     "ON CONFLICT (pipeline, task, stream, \"partition\") DO UPDATE SET \"offset\" = "
                     "EXCLUDED.\"offset\", updated_at = now()",
                     names->positions);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    status = prepare(conn, PGS_STMT_POSITION, sql, 5, err, err_size);
    free(sql);
    return status;
}
