/*
 * The multi-value register's storage (conflicts: {...}; rdapsync/sinktk.h,
 * "Multi-value register"): the data table's `heads` column keeps each
 * key's heads as the toolkit's JSON text beside the visible document of
 * the same row, and the conflict log keeps one row per key that had
 * several heads.
 *
 * The heads live in the row, not in a table of their own, so a changed key
 * costs the server one row written, one index entry and one WAL record
 * instead of two of each (docs/benchmarks.md). A key whose row an erasure
 * removes stays as a tombstone holding its (scrubbed) heads, so the
 * register does not forget what it saw (pgs_subject.c).
 *
 * A write costs a fixed number of statements whatever its size: one
 * SELECT for the heads of its keys the cache does not know (and one for
 * the rows' documents when a lone head, stored without its document,
 * meets a concurrent version), one COPY of the changed keys into the COPY
 * path's stage (pgs_copy.c) and one upsert of the rows, heads included,
 * from it, and one for the log's changes when the batch has any, taking
 * them as arrays (unnest). All inside the flush's transaction.
 *
 * The register epoch: every transaction of a register writer first takes
 * the next value of its table's row in rdapsync_registers, an upsert that
 * holds the row until COMMIT. So the register writes of one table (the
 * pipelines of several processes, an erasure) run one at a time, and
 * none reads heads that another is about to replace (without it, two
 * writers of one key could each add their head and the later one drop
 * the other's). The epoch also says whether anybody else wrote since this
 * sink's last COMMIT: if not, the heads it wrote or read then are still
 * the table's, and a key the cache knows is not read again
 * (pgs_heads_cache.c). Reading the heads cost the server about 5 % of a
 * vectors run (docs/benchmarks.md).
 *
 * The COPY streams: the server stores row n while the sink serializes row
 * n+1, and a lone head's document goes from its record's value into the
 * COPY buffer, never held as a text of its own. (Arrays built in full
 * before the statement left the server idle while the sink serialized
 * every document, and cost a string and a copy more of each: vectors cost
 * a third less CPU and 6 MB less memory this way; docs/benchmarks.md.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

/* Heads beside others carry their documents: the same TOAST compression
 * as the data table's doc column (pglz costs about half of the server's
 * time). A lone head, most keys' case, is a short text without one.
 * Adding a column without a default only changes the catalog. */
static char *add_heads_sql(const pgs_names *n, const char *compression)
{
    return pgs_printf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS heads text%s", n->table, compression);
}

/* Kept in the row like doc (pgs_schema.c): a row of a ~2 KB document and
 * its heads would otherwise often go over the 2 KB at which the server
 * moves values out of line. Only for a column added here. */
static char *heads_storage_sql(const pgs_names *n)
{
    return pgs_printf("ALTER TABLE %s ALTER heads SET STORAGE MAIN", n->table);
}

/* Whether the data table has the heads column yet. */
static rdapsync_status has_heads(PGconn *conn, const pgs_names *n, bool *has, char *err, size_t err_size)
{
    return pgs_ask(conn,
                   "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) "
                   "AND attname = 'heads' AND NOT attisdropped)",
                   n->table, has, err, err_size);
}

/* An earlier release's <table>_heads, moved into the column. A key whose
 * row an erasure deleted then had heads and no row: it becomes the
 * tombstone an erasure leaves now, at version zero (below every version,
 * as no row was). */
static char *move_heads_sql(const pgs_names *n)
{
    return pgs_printf("INSERT INTO %1$s AS cur (%2$s, doc, deleted, event_time_ms, origin, seq, heads) "
                      "SELECT %2$s, NULL, true, 0, '', 0, heads FROM %3$s "
                      "ON CONFLICT (%2$s) DO UPDATE SET heads = EXCLUDED.heads",
                      n->table, n->key, n->heads);
}

static char *create_log_sql(const pgs_names *n)
{
    return pgs_printf("CREATE TABLE IF NOT EXISTS %s (%s text PRIMARY KEY, heads jsonb NOT NULL, strategy text NOT "
                      "NULL, detected_at timestamptz NOT NULL DEFAULT now(), resolved_at timestamptz)",
                      n->conflicts, n->key);
}

static rdapsync_status run(PGconn *conn, char *sql, char *err, size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = pgs_exec(conn, sql, err, err_size);
    free(sql);
    return status;
}

/* Whether the earlier release's heads table exists (names->heads set). */
static rdapsync_status legacy_heads(PGconn *conn, const pgs_names *n, bool *exists, char *err, size_t err_size)
{
    *exists = false;
    return n->heads ? pgs_ask(conn, PGS_EXISTS_SQL, n->heads, exists, err, err_size) : RDAPSYNC_OK;
}

rdapsync_status pgs_mvr_ensure(pgs_state *st, char *err, size_t err_size)
{
    PGconn *conn = st->conn;
    const pgs_names *names = &st->names;
    rdapsync_status status = pgs_exec(conn, "BEGIN", err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    bool legacy = false, had = false;
    if ((status = pgs_exec(conn, PGS_SCHEMA_LOCK, err, err_size)) == RDAPSYNC_OK &&
        (status = has_heads(conn, names, &had, err, err_size)) == RDAPSYNC_OK && !had &&
        (status = run(conn, add_heads_sql(names, pgs_schema_compression(conn, st->cfg->compression)), err,
                      err_size)) == RDAPSYNC_OK)
        status = run(conn, heads_storage_sql(names), err, err_size);
    if (status == RDAPSYNC_OK &&
        (status = legacy_heads(conn, names, &legacy, err, err_size)) == RDAPSYNC_OK && legacy &&
        (status = run(conn, move_heads_sql(names), err, err_size)) == RDAPSYNC_OK) {
        char *drop = pgs_printf("DROP TABLE %s", names->heads);
        status = run(conn, drop, err, err_size);
        if (status == RDAPSYNC_OK)
            pgs_host->log(st->ctx, RDAPSYNC_LOG_INFO, "moved the heads of %s into its heads column, as %s",
                          names->heads, names->table);
    }
    if (status == RDAPSYNC_OK)
        status = run(conn, create_log_sql(names), err, err_size);
    if (status == RDAPSYNC_OK)
        return pgs_exec(conn, "COMMIT", err, err_size);
    PQclear(PQexec(conn, "ROLLBACK"));
    return status;
}

/* A table made by hand (create_table: false) must have the column too:
 * said at open, not at the first write. */
rdapsync_status pgs_mvr_check(pgs_state *st, char *err, size_t err_size)
{
    char *sql = pgs_printf("SELECT heads FROM %s LIMIT 0", st->names.table);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    char reason[512];
    rdapsync_status status = pgs_exec(st->conn, sql, reason, sizeof reason);
    free(sql);
    if (status != RDAPSYNC_OK)
        snprintf(err, err_size, "conflicts: the table %s needs a heads text column (created by the sink with "
                 "create_table: true): %s", st->names.table, reason);
    return status;
}

/* ---- arrays in binary form ----
 * Every parameter is a one-dimensional array in PostgreSQL's binary array
 * format (array_send): a header, then each element as its length and its
 * bytes. Documents go in as they are, with nothing to escape here and
 * nothing to de-escape on the server, which a text[] literal cost on both
 * sides (every '"' of a document escaped). */

enum { OID_TEXT = 25 };
#define ARRAY_HEADER 20 /* ndim, flags, element type, length, lower bound */

/* One text[] parameter being built: n elements so far. */
typedef struct column {
    pgs_buffer b;
    int32_t n;
} column;

static int put_be32(pgs_buffer *b, uint32_t v)
{
    char bytes[4] = { (char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v };
    return pgs_buffer_append(b, bytes, 4);
}

/* Appends one text element; NULL as length -1. */
static int element(column *c, const char *text, size_t len)
{
    if (len > INT32_MAX)
        return -1;
    c->n++;
    if (!text)
        return put_be32(&c->b, UINT32_MAX);
    return put_be32(&c->b, (uint32_t)len) || pgs_buffer_append(&c->b, text, len);
}

/* The arrays of one statement, each column in its buffer. */
#define PGS_MVR_COLUMNS 4
typedef struct arrays {
    column col[PGS_MVR_COLUMNS];
    int count;
} arrays;

static int arrays_open(arrays *a, int count)
{
    memset(a, 0, sizeof(*a));
    a->count = count;
    for (int i = 0; i < count; i++) {
        /* The length is filled in by arrays_close. */
        if (put_be32(&a->col[i].b, 1) || put_be32(&a->col[i].b, 1) || put_be32(&a->col[i].b, OID_TEXT) ||
            put_be32(&a->col[i].b, 0) || put_be32(&a->col[i].b, 1))
            return -1;
    }
    return 0;
}

static int arrays_close(arrays *a)
{
    for (int i = 0; i < a->count; i++) {
        column *c = &a->col[i];
        if (c->b.len < ARRAY_HEADER)
            return -1;
        uint32_t n = (uint32_t)c->n;
        char bytes[4] = { (char)(n >> 24), (char)(n >> 16), (char)(n >> 8), (char)n };
        memcpy(c->b.data + 12, bytes, 4);
        if (n == 0) { /* an empty array has no dimension */
            memset(c->b.data, 0, 8);
            c->b.len = 12;
        }
    }
    return 0;
}

static void arrays_free(arrays *a)
{
    for (int i = 0; i < PGS_MVR_COLUMNS; i++)
        pgs_buffer_free(&a->col[i].b);
}

/* Runs `sql` with the arrays (binary) and `extra` (a last text parameter,
 * if non-NULL) as parameters. `tuples`: the result has rows to hand back
 * in *out (the caller PQclear()s it). */
static rdapsync_status exec_arrays(PGconn *conn, const char *sql, const arrays *a, const char *extra, bool tuples,
                                   PGresult **out, char *err, size_t err_size)
{
    const char *values[PGS_MVR_COLUMNS + 1];
    int lengths[PGS_MVR_COLUMNS + 1], formats[PGS_MVR_COLUMNS + 1];
    int n = 0;
    for (; n < a->count; n++) {
        values[n] = a->col[n].b.data;
        lengths[n] = (int)a->col[n].b.len;
        formats[n] = 1;
    }
    if (extra) {
        values[n] = extra;
        lengths[n] = 0;
        formats[n++] = 0;
    }
    PGresult *res = PQexecParams(conn, sql, n, NULL, values, lengths, formats, 0);
    if (res && PQresultStatus(res) == (tuples ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return RDAPSYNC_OK;
    }
    char reason[768];
    pgs_error_text(conn, res, reason, sizeof reason);
    snprintf(err, err_size, "conflicts tables: %s", reason);
    pgs_failure failure = pgs_classify(conn, res);
    PQclear(res);
    /* Not one record's fault: the write fails as a whole. */
    return pgs_failure_status(failure == PGS_FAIL_DATA ? PGS_FAIL_FATAL : failure);
}

static rdapsync_status out_of_memory(arrays *a, char *err, size_t err_size)
{
    arrays_free(a);
    snprintf(err, err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

/* ---- heads_load ---- */

/* Finds the key of a result row among `keys` (the rows come back in any
 * order; a batch's keys are sorted, so a binary search does). */
static rdapsync_sinktk_mvr_key *find_key(rdapsync_sinktk_mvr_key *keys, size_t count, const char *key, size_t len)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rdapsync_record *r = keys[mid].record;
        size_t n = r->key_len < len ? r->key_len : len;
        int c = memcmp(r->key, key, n);
        if (c == 0)
            c = r->key_len < len ? -1 : r->key_len > len ? 1 : 0;
        if (c == 0)
            return &keys[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Runs `sql` (a SELECT of key and one text column for the keys in $1)
 * for the keys of `keys` (with `rows`: only those whose need_row is set;
 * with `want`: only those whose entry is set) and keeps each key's text
 * in its `stored` (heads) or `row_doc` (rows). */
static rdapsync_status load_texts(pgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, bool rows,
                                  const bool *want, char *sql, char *err, size_t err_size)
{
    arrays a;
    if (!sql || arrays_open(&a, 1) != 0) {
        free(sql);
        return out_of_memory(&a, err, err_size);
    }
    for (size_t i = 0; i < count; i++) {
        if ((rows && !keys[i].need_row) || (want && !want[i]))
            continue;
        if (element(&a.col[0], keys[i].record->key, keys[i].record->key_len) != 0) {
            free(sql);
            return out_of_memory(&a, err, err_size);
        }
    }
    if (arrays_close(&a) != 0) {
        free(sql);
        return out_of_memory(&a, err, err_size);
    }
    PGresult *res = NULL;
    rdapsync_status status = exec_arrays(st->conn, sql, &a, NULL, true, &res, err, err_size);
    free(sql);
    arrays_free(&a);
    for (int r = 0; status == RDAPSYNC_OK && r < PQntuples(res); r++) {
        rdapsync_sinktk_mvr_key *key =
            find_key(keys, count, PQgetvalue(res, r, 0), (size_t)PQgetlength(res, r, 0));
        size_t len = (size_t)PQgetlength(res, r, 1);
        if (!key || PQgetisnull(res, r, 1))
            continue;
        char *text = malloc(len + 1);
        if (!text) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
            break;
        }
        memcpy(text, PQgetvalue(res, r, 1), len + 1);
        if (rows) {
            key->row_doc = text;
            key->row_doc_len = len;
        } else {
            key->stored = text;
            key->stored_len = len;
        }
    }
    PQclear(res);
    return status;
}

/* The keys the cache knows take their heads from it (a copy: the writer
 * frees `stored`); the others are read, and kept in the cache. */
rdapsync_status pgs_mvr_load(pgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    pgs_heads_cache *cache = st->epoch_open >= 0 ? st->heads_cache : NULL;
    bool *want = cache ? calloc(count ? count : 1, sizeof(*want)) : NULL;
    size_t misses = cache ? 0 : count;
    if (cache && !want) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    for (size_t i = 0; cache && i < count; i++) {
        const char *text;
        size_t len;
        const rdapsync_record *r = keys[i].record;
        if (!pgs_heads_cache_get(cache, r->key, r->key_len, &text, &len)) {
            want[i] = true;
            misses++;
        } else if (text) {
            if (!(keys[i].stored = malloc(len + 1))) {
                free(want);
                snprintf(err, err_size, "out of memory");
                return RDAPSYNC_ERROR;
            }
            memcpy(keys[i].stored, text, len + 1);
            keys[i].stored_len = len;
        }
    }
    if (cache) {
        pgs_host->counter_add(st->ctx, "heads_cache_hits", (int64_t)(count - misses));
        pgs_host->counter_add(st->ctx, "heads_cache_misses", (int64_t)misses);
    }
    rdapsync_status status = RDAPSYNC_OK;
    if (misses) {
        char *sql = pgs_printf("SELECT %s, heads FROM %s WHERE %s = ANY($1::text[]) AND heads IS NOT NULL",
                               st->names.key, st->names.table, st->names.key);
        status = load_texts(st, keys, count, false, want, sql, err, err_size);
    }
    for (size_t i = 0; status == RDAPSYNC_OK && cache && i < count; i++)
        if (want[i])
            pgs_heads_cache_put(cache, keys[i].record->key, keys[i].record->key_len, keys[i].stored,
                                keys[i].stored_len);
    free(want);
    return status;
}

/* jsonb gives the document back with its members in another order and
 * its numbers respelled: the toolkit sorts members, and the same versions
 * still make the same heads text (sinktk.h). */
rdapsync_status pgs_mvr_rows_load(pgs_state *st, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                  size_t err_size)
{
    char *sql = pgs_printf("SELECT %s, doc::text FROM %s WHERE %s = ANY($1::text[]) AND NOT deleted",
                           st->names.key, st->names.table, st->names.key);
    return load_texts(st, keys, count, true, NULL, sql, err, err_size);
}

/* ---- heads_write ---- */

/* The stage's columns the register fills, in put_stage_row's order. */
#define STAGE_COLUMNS "heads, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset"

/* One changed key as a stage row: its heads and its visible row. The
 * document goes from the record's value straight into the COPY buffer
 * when the toolkit hands it over as one (doc_value). */
static int put_stage_row(pgs_buffer *buf, size_t i, void *arg)
{
    const rdapsync_sinktk_mvr_key *k = (const rdapsync_sinktk_mvr_key *)arg + i;
    const rdapsync_record *r = k->record;
    const char *origin = k->version.origin ? k->version.origin : "";
    const char *stream = r->position.stream;
    char deleted = !k->doc_value && !k->doc;
    if (pgs_copy_field_count(buf, 10) != 0 || pgs_copy_field(buf, r->key, r->key_len) != 0 ||
        pgs_copy_field(buf, k->heads, k->heads_len) != 0)
        return -1;
    if ((k->doc_value ? pgs_copy_doc_field(buf, k->doc_value)
         : k->doc     ? pgs_copy_doc_text_field(buf, k->doc, strlen(k->doc))
                      : pgs_copy_field(buf, NULL, 0)) != 0)
        return -1;
    return pgs_copy_field(buf, &deleted, 1) || pgs_copy_int_field(buf, k->version.event_time_ms, 8) ||
           pgs_copy_field(buf, origin, strlen(origin)) || pgs_copy_int_field(buf, k->version.sequence, 8) ||
           pgs_copy_field(buf, stream, stream ? strlen(stream) : 0) ||
           pgs_copy_int_field(buf, r->position.partition, 4) || pgs_copy_int_field(buf, r->position.offset, 8);
}

/* The log's arrays from column `at`: key and heads of the keys with
 * that change. */
static int add_log(arrays *log, int at, const rdapsync_sinktk_mvr_key *k)
{
    return element(&log->col[at], k->record->key, k->record->key_len) |
           element(&log->col[at + 1], k->log_heads, strlen(k->log_heads));
}

/* The rows, heads included, from the stage. Without the version guard:
 * the row's version is the shown head's, which may be older than the
 * row's (region-priority, a resolution). */
static char *heads_and_live_sql(const pgs_names *n)
{
    const char *columns = pgs_schema_columns(RDAPSYNC_SINKTK_UPSERT);
    return pgs_printf("INSERT INTO %1$s AS cur (%2$s, %3$s, heads) SELECT %2$s, %3$s, heads FROM " PGS_STAGE " "
                      "ON CONFLICT (%2$s) DO UPDATE SET doc = EXCLUDED.doc, deleted = EXCLUDED.deleted, "
                      "event_time_ms = EXCLUDED.event_time_ms, origin = EXCLUDED.origin, seq = EXCLUDED.seq, "
                      "src_stream = EXCLUDED.src_stream, src_partition = EXCLUDED.src_partition, "
                      "src_offset = EXCLUDED.src_offset, heads = EXCLUDED.heads, updated_at = now()",
                      n->table, n->key, columns);
}

/* The log's changes of a batch in one statement: keys opened ($1, $2)
 * and keys resolved ($3, $4) are different keys, so the two parts never
 * touch one row. A resolved row that conflicts again starts a new
 * detection. (Folding this into the rows' statement saved a round trip
 * and measured no faster.) */
static char *log_sql(const pgs_names *n)
{
    return pgs_printf("WITH opened AS (INSERT INTO %1$s AS cur (%2$s, heads, strategy) SELECT k, h::jsonb, $5 FROM "
                      "unnest($1::text[], $2::text[]) AS u(k, h) ON CONFLICT (%2$s) DO UPDATE SET "
                      "heads = EXCLUDED.heads, strategy = EXCLUDED.strategy, detected_at = CASE WHEN "
                      "cur.resolved_at IS NULL THEN cur.detected_at ELSE now() END, resolved_at = NULL), "
                      "resolved AS (UPDATE %1$s AS cur SET heads = u.h::jsonb, resolved_at = now() FROM "
                      "unnest($3::text[], $4::text[]) AS u(k, h) WHERE cur.%2$s = u.k AND cur.resolved_at IS NULL) "
                      "SELECT",
                      n->conflicts, n->key);
}

/* Runs `sql` (owned) with the arrays and `extra`; `tuples`: it answers rows. */
static rdapsync_status run_arrays(PGconn *conn, char *sql, arrays *a, const char *extra, bool tuples, char *err,
                                  size_t err_size)
{
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = exec_arrays(conn, sql, a, extra, tuples, NULL, err, err_size);
    free(sql);
    return status;
}

rdapsync_status pgs_mvr_write(pgs_state *st, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                              size_t err_size)
{
    arrays log; /* opened keys and heads, resolved keys and heads */
    size_t n_log = 0;
    int rc = arrays_open(&log, 4);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (keys[i].log == RDAPSYNC_SINKTK_LOG_OPEN || keys[i].log == RDAPSYNC_SINKTK_LOG_RESOLVE) {
            n_log++;
            rc |= add_log(&log, keys[i].log == RDAPSYNC_SINKTK_LOG_OPEN ? 0 : 2, &keys[i]);
        }
    }
    rc |= arrays_close(&log);
    rdapsync_status status = RDAPSYNC_OK;
    char *columns = NULL;
    if (rc != 0 || !(columns = pgs_printf("%s, " STAGE_COLUMNS, st->names.key))) {
        snprintf(err, err_size, "out of memory");
        status = RDAPSYNC_ERROR;
        goto done;
    }
    status = pgs_copy_stage_rows(st, columns, count, put_stage_row, (void *)keys, err, err_size);
    free(columns);
    if (status != RDAPSYNC_OK) {
        char reason[768];
        snprintf(reason, sizeof reason, "%s", err);
        snprintf(err, err_size, "conflicts tables: %s", reason);
        goto done;
    }
    arrays none = { .count = 0 };
    if ((status = run_arrays(st->conn, heads_and_live_sql(&st->names), &none, NULL, false, err, err_size)) !=
            RDAPSYNC_OK ||
        (n_log && (status = run_arrays(st->conn, log_sql(&st->names), &log,
                                       rdapsync_sinktk_strategy_names[st->conflicts->strategy], true, err,
                                       err_size)) != RDAPSYNC_OK))
        goto done;
    for (size_t i = 0; st->heads_cache && st->epoch_open >= 0 && i < count; i++)
        pgs_heads_cache_pend(st->heads_cache, keys[i].record->key, keys[i].record->key_len, keys[i].heads,
                             keys[i].heads_len);
done:
    arrays_free(&log);
    return status;
}

rdapsync_status pgs_mvr_open_count(pgs_state *st, uint64_t *count, char *err, size_t err_size)
{
    char *sql = pgs_printf("SELECT count(*) FROM %s WHERE resolved_at IS NULL", st->names.conflicts);
    arrays none = { .count = 0 };
    PGresult *res = NULL;
    if (!sql)
        return out_of_memory(&none, err, err_size);
    rdapsync_status status = exec_arrays(st->conn, sql, &none, NULL, true, &res, err, err_size);
    free(sql);
    if (status == RDAPSYNC_OK)
        *count = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return status;
}

/* ---- the register epoch ---- */

static char *create_registers_sql(const char *registers)
{
    return pgs_printf("CREATE TABLE IF NOT EXISTS %s (table_oid oid PRIMARY KEY, table_name text NOT NULL, "
                      "epoch bigint NOT NULL)",
                      registers);
}

rdapsync_status pgs_mvr_connect(pgs_state *st, bool ensure, char *err, size_t err_size)
{
    /* By oid, and in the table's own schema: processes that name the
     * table differently (search_path, schema:) still share its epoch. */
    const char *name = st->names.table;
    PGresult *res = PQexecParams(st->conn,
                                 "SELECT c.oid::text, quote_ident(n.nspname) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                                 1, NULL, &name, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char reason[512];
        pgs_error_text(st->conn, res, reason, sizeof reason);
        snprintf(err, err_size, "conflicts: the table %s: %s", name, reason);
        rdapsync_status status = pgs_failure_status(pgs_classify(st->conn, res));
        PQclear(res);
        return status;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(err, err_size, "conflicts: the table %s does not exist", name);
        return RDAPSYNC_ERROR;
    }
    free(st->table_oid);
    free(st->registers);
    free(st->epoch_sql);
    st->table_oid = strdup(PQgetvalue(res, 0, 0));
    st->registers = pgs_printf("%s.rdapsync_registers", PQgetvalue(res, 0, 1));
    PQclear(res);
    /* BEGIN and the epoch in one round trip (literals: an oid's digits
     * and the name escaped by libpq). */
    char *name_literal = PQescapeLiteral(st->conn, name, strlen(name));
    st->epoch_sql = st->registers && st->table_oid && name_literal
                        ? pgs_printf("BEGIN; INSERT INTO %s AS r (table_oid, table_name, epoch) VALUES (%s, %s, 1) "
                                     "ON CONFLICT (table_oid) DO UPDATE SET epoch = r.epoch + 1 RETURNING epoch",
                                     st->registers, st->table_oid, name_literal)
                        : NULL;
    PQfreemem(name_literal);
    st->epoch_committed = st->epoch_open = -1;
    pgs_heads_cache_clear(st->heads_cache);
    if (!st->table_oid || !st->registers || !st->epoch_sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    if (!ensure)
        return RDAPSYNC_OK;
    rdapsync_status status = pgs_exec(st->conn, "BEGIN", err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    if ((status = pgs_exec(st->conn, PGS_SCHEMA_LOCK, err, err_size)) == RDAPSYNC_OK &&
        (status = run(st->conn, create_registers_sql(st->registers), err, err_size)) == RDAPSYNC_OK)
        return pgs_exec(st->conn, "COMMIT", err, err_size);
    PQclear(PQexec(st->conn, "ROLLBACK"));
    return status;
}

rdapsync_status pgs_mvr_begin(pgs_state *st, char *err, size_t err_size)
{
    PGresult *res = PQexec(st->conn, st->epoch_sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        char reason[512];
        pgs_error_text(st->conn, res, reason, sizeof reason);
        snprintf(err, err_size, "conflicts: the register epoch of %s: %s", st->names.table, reason);
        pgs_failure failure = pgs_classify(st->conn, res);
        PQclear(res);
        return pgs_failure_status(failure == PGS_FAIL_DATA ? PGS_FAIL_FATAL : failure);
    }
    int64_t epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    /* Anything but the next epoch: another writer committed in between
     * (or this lane's last COMMIT is in doubt). */
    if (st->heads_cache && (st->epoch_committed < 0 || epoch != st->epoch_committed + 1)) {
        if (pgs_heads_cache_count(st->heads_cache) > 0)
            pgs_host->counter_add(st->ctx, "heads_cache_invalidations", 1);
        pgs_heads_cache_clear(st->heads_cache);
    }
    st->epoch_open = epoch;
    return RDAPSYNC_OK;
}

void pgs_mvr_committed(pgs_state *st)
{
    if (st->epoch_open < 0)
        return;
    st->epoch_committed = st->epoch_open;
    st->epoch_open = -1;
    if (st->heads_cache)
        pgs_heads_cache_commit(st->heads_cache);
}

void pgs_mvr_aborted(pgs_state *st)
{
    st->epoch_open = -1;
    if (st->heads_cache)
        pgs_heads_cache_abort(st->heads_cache);
}
