/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the data table, the history table, and with conflicts: {...} the heads
 * column and the conflict log (each head scrubbed, every version kept).
 * With conflicts a deleted row that holds heads stays as a tombstone (doc
 * NULL) holding them, scrubbed: without them the register would forget
 * the versions it saw, and a replayed old version would bring the subject
 * back.
 * Candidates come from a server-side
 * prefilter (the subject's needle with ILIKE over the document text, or
 * "has a retention deadline"); the toolkit's matcher decides each one, so
 * the answer is the same as every other sink's. Rows are streamed in
 * single-row mode: a scan holds one row at a time, an erasure only the rows
 * it changes. An erasure is one transaction: rows are locked as read
 * (FOR UPDATE) and deleted or rewritten by ctid before COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

typedef struct part {
    const char *where;
    const char *table;
    const char *column; /* the document's column */
    bool history;
    bool heads; /* the column holds a register's heads (rdapsync_sinktk_scrub_heads) */
    /* A deleted row that holds heads stays as a tombstone keeping them;
     * one without (written without a vector) goes, key and all. */
    bool keeps_heads;
} part;

#define MAX_PARTS 4

/* The stores an erasure reaches: the data, its history, the register's
 * heads (a column of the data table) and the conflict log's heads
 * (conflicts: {...}). */
static size_t parts_of(const pgs_state *st, part out[MAX_PARTS])
{
    size_t n = 0;
    bool mvr = st->names.conflicts != NULL;
    out[n++] = (part){"live", st->names.table, "doc", false, false, mvr};
    if (st->names.history)
        out[n++] = (part){"history", st->names.history, "doc", true, false, false};
    if (mvr) {
        out[n++] = (part){"heads", st->names.table, "heads", false, true, false};
        out[n++] = (part){"conflicts", st->names.conflicts, "heads", false, true, false};
    }
    return n;
}

typedef int (*row_fn)(void *opaque, const char *id, size_t id_len, const char *doc, size_t doc_len, char *err,
                      size_t err_size);

/* A pattern parameter for ILIKE, or NULL: no prefilter beyond the SQL. */
static char *select_sql(const pgs_state *st, const part *p, const char *id_expr, bool subject, bool with_pattern,
                        bool lock)
{
    const char *filter = "";
    if (subject && with_pattern)
        filter = p->heads ? " AND heads::text ILIKE $1" : " AND doc::text ILIKE $1";
    else if (!subject && p->heads)
        filter = " AND heads::text LIKE '%\"retention\\_until\"%'";
    else if (!subject)
        filter = p->history ? " AND retention_until IS NOT NULL" : " AND doc->'rdapsync' ? 'retention_until'";
    return pgs_printf("SELECT %s, %s::text FROM %s WHERE %s IS NOT NULL%s%s", id_expr, p->column, p->table,
                      p->column, filter, lock ? " FOR UPDATE" : "");
}

static rdapsync_status scan(pgs_state *st, const char *sql, const char *param, row_fn fn, void *opaque, char *err,
                            size_t err_size)
{
    if (!st->conn) {
        snprintf(err, err_size, "postgres sink: not connected");
        return RDAPSYNC_RETRY;
    }
    if (!PQsendQueryParams(st->conn, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0) ||
        !PQsetSingleRowMode(st->conn)) {
        pgs_error_text(st->conn, NULL, err, err_size);
        return pgs_failure_status(pgs_classify(st->conn, NULL));
    }
    rdapsync_status status = RDAPSYNC_OK;
    PGresult *res;
    while ((res = PQgetResult(st->conn))) {
        ExecStatusType rs = PQresultStatus(res);
        if (status == RDAPSYNC_OK && rs == PGRES_SINGLE_TUPLE) {
            if (fn(opaque, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), PQgetvalue(res, 0, 1),
                   (size_t)PQgetlength(res, 0, 1), err, err_size) != 0)
                status = RDAPSYNC_ERROR; /* the rest of the rows are drained */
        } else if (status == RDAPSYNC_OK && rs != PGRES_TUPLES_OK && rs != PGRES_SINGLE_TUPLE) {
            pgs_error_text(st->conn, res, err, err_size);
            status = pgs_failure_status(pgs_classify(st->conn, res));
        }
        PQclear(res);
    }
    return status;
}

/* ---- find ---- */

/* Subject calls run on the instance's first connection: the instance
 * itself holds none once its lanes exist (connections: N). */
static pgs_state *subject_lane(void *state)
{
    pgs_state *st = state;
    return st->lanes && st->lane_count > 0 ? &st->lanes[0] : st;
}

rdapsync_status pgs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    pgs_state *st = subject_lane(state);
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    char *pattern = status == RDAPSYNC_OK && subject.needle ? rdapsync_sinktk_like_pattern(subject.needle) : NULL;
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        rdapsync_sinktk_subject_scan f = {pgs_host, "postgres", &subject, parts[i].where, parts[i].heads, fn, arg};
        char *sql = select_sql(st, &parts[i], st->names.key, true, pattern != NULL, false);
        status = sql ? scan(st, sql, pattern, rdapsync_sinktk_subject_found, &f, err, err_size) : RDAPSYNC_ERROR;
        free(sql);
    }
    free(pattern);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

/* ---- erase / purge ---- */

typedef struct collect_ctx {
    rdapsync_sinktk_scrub_list list;
    const rdapsync_sinktk_scrub *scrub;
    bool heads;
} collect_ctx;

static int collect_row(void *opaque, const char *ctid, size_t ctid_len, const char *doc, size_t doc_len, char *err,
                       size_t err_size)
{
    collect_ctx *c = opaque;
    if (c->heads)
        return rdapsync_sinktk_scrub_list_add_heads(&c->list, c->scrub, ctid, ctid_len, doc, doc_len, err, err_size);
    return rdapsync_sinktk_scrub_list_add(&c->list, c->scrub, ctid, ctid_len, doc, doc_len, err, err_size);
}

static rdapsync_status apply(pgs_state *st, const part *p, const rdapsync_sinktk_scrub_list *list, uint64_t *changed,
                             char *err, size_t err_size)
{
    char *del = p->keeps_heads ? pgs_printf("WITH u AS (UPDATE %1$s SET doc = NULL, deleted = true, updated_at = now() "
                                       "WHERE ctid = $1::tid AND heads IS NOT NULL RETURNING 1), "
                                       "d AS (DELETE FROM %1$s WHERE ctid = $1::tid AND heads IS NULL RETURNING 1) "
                                       "SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM d)",
                                       p->table)
                          : pgs_printf("DELETE FROM %s WHERE ctid = $1::tid", p->table);
    char *upd = pgs_printf("UPDATE %s SET %s%s WHERE ctid = $1::tid", p->table,
                           p->heads ? "heads = $2" : "doc = $2::jsonb",
                           p->history ? ", retention_until = $2::jsonb->'rdapsync'->>'retention_until'" : "");
    rdapsync_status status = del && upd ? RDAPSYNC_OK : RDAPSYNC_ERROR;
    for (size_t i = 0; status == RDAPSYNC_OK && i < list->count; i++) {
        const rdapsync_sinktk_scrub_item *it = &list->items[i];
        bool replace = it->verdict == RDAPSYNC_SINKTK_REPLACE;
        /* The replacement is text JSON: no NUL inside, so it can end at
         * doc_len only through the length array. */
        const char *values[2] = {it->id, it->doc};
        int lengths[2] = {(int)it->id_len, (int)it->doc_len};
        PGresult *res = PQexecParams(st->conn, replace ? upd : del, replace ? 2 : 1, NULL, values, lengths, NULL, 0);
        bool counted = p->keeps_heads && !replace; /* the count comes as a row */
        if (PQresultStatus(res) != (counted ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
            pgs_error_text(st->conn, res, err, err_size);
            status = pgs_failure_status(pgs_classify(st->conn, res));
        } else {
            *changed += strtoull(counted ? PQgetvalue(res, 0, 0) : PQcmdTuples(res), NULL, 10);
        }
        PQclear(res);
    }
    free(del);
    free(upd);
    return status;
}

static rdapsync_status scrub_all(pgs_state *st, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                 size_t err_size)
{
    *changed = 0;
    char *pattern = scrub->subject && scrub->subject->needle ? rdapsync_sinktk_like_pattern(scrub->subject->needle)
                                                              : NULL;
    /* With conflicts heads are rewritten too: the epoch tells the running
     * writers' caches, and holds them meanwhile (pgs_mvr.c). */
    rdapsync_status status = !st->conn           ? RDAPSYNC_RETRY
                             : st->names.conflicts ? pgs_mvr_begin(st, err, err_size)
                                                   : pgs_exec(st->conn, "BEGIN", err, err_size);
    if (!st->conn)
        snprintf(err, err_size, "postgres sink: not connected");
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        collect_ctx c = {.scrub = scrub, .heads = parts[i].heads};
        char *sql = select_sql(st, &parts[i], "ctid::text", scrub->subject != NULL, pattern != NULL, true);
        status = sql ? scan(st, sql, pattern, collect_row, &c, err, err_size) : RDAPSYNC_ERROR;
        if (status == RDAPSYNC_OK)
            status = apply(st, &parts[i], &c.list, changed, err, err_size);
        rdapsync_sinktk_scrub_list_free(&c.list, pgs_host);
        free(sql);
    }
    if (status == RDAPSYNC_OK) {
        status = pgs_exec(st->conn, "COMMIT", err, err_size);
    } else if (st->conn) {
        char ignored[256];
        pgs_exec(st->conn, "ROLLBACK", ignored, sizeof(ignored));
    }
    if (status != RDAPSYNC_OK)
        *changed = 0;
    free(pattern);
    return status;
}

rdapsync_status pgs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = pgs_host, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_all(subject_lane(state), &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status pgs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = pgs_host, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_all(subject_lane(state), &scrub, purged, err, err_size);
}
