/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the data table, the history table, and with conflicts: {...} the heads
 * and the conflict log (each head scrubbed, every version kept).
 * Candidates come from a LIKE
 * prefilter on the document text (ASCII case-insensitive, as the needle
 * is), and the toolkit's matcher decides. An erasure is one transaction
 * (BEGIN IMMEDIATE) that deletes or rewrites rows by rowid with
 * secure_delete on, so SQLite zeroes the freed cells and pages; after the
 * commit a TRUNCATE checkpoint copies the zeroed pages into the database
 * file and empties the WAL, so neither keeps the erased bytes. A reader
 * that holds the WAL open (a running pipeline mid-transaction) blocks the
 * truncation: the call then answers RETRY and the next call (which finds
 * nothing left to change) checkpoints again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs.h"

typedef struct part {
    const char *where;
    const char *table;
    const char *column; /* the document's column */
    bool history;
    bool heads; /* the column holds a register's heads (rdapsync_sinktk_scrub_heads) */
} part;

#define MAX_PARTS 4

/* The stores an erasure reaches: the data, its history, the register's
 * heads and the conflict log's heads (conflicts: {...}). */
static size_t parts_of(const sqs_state *st, part out[MAX_PARTS])
{
    size_t n = 0;
    out[n++] = (part){"live", st->names.table, "doc", false, false};
    if (st->names.history)
        out[n++] = (part){"history", st->names.history, "doc", true, false};
    if (st->names.heads)
        out[n++] = (part){"heads", st->names.heads, "heads", false, true};
    if (st->names.conflicts)
        out[n++] = (part){"conflicts", st->names.conflicts, "heads", false, true};
    return n;
}

static char *select_sql(const sqs_state *st, const part *p, const char *id_expr, bool subject, bool with_pattern)
{
    const char *filter = "";
    if (subject && with_pattern)
        filter = " LIKE ?1 ESCAPE '\\'";
    else if (!subject)
        filter = p->history ? NULL : " LIKE '%\"retention\\_until\"%' ESCAPE '\\'";
    if (!filter)
        return sqs_printf("SELECT %s, doc FROM %s WHERE doc IS NOT NULL AND retention_until IS NOT NULL", id_expr,
                          p->table);
    return sqs_printf("SELECT %s, %s FROM %s WHERE %s IS NOT NULL%s%s%s", id_expr, p->column, p->table, p->column,
                      *filter ? " AND " : "", *filter ? p->column : "", filter);
}

typedef int (*row_fn)(void *opaque, const char *id, size_t id_len, const char *doc, size_t doc_len, char *err,
                      size_t err_size);

static rdapsync_status fail_rc(sqs_state *st, int rc, char *err, size_t err_size)
{
    sqs_error_text(st->db, rc, err, err_size);
    return sqs_failure_status(sqs_classify(rc));
}

static rdapsync_status scan(sqs_state *st, const char *sql, const char *pattern, row_fn fn, void *opaque, char *err,
                            size_t err_size)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return fail_rc(st, rc, err, err_size);
    if (pattern)
        sqlite3_bind_text(stmt, 1, pattern, -1, SQLITE_STATIC);
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        size_t id_len = (size_t)sqlite3_column_bytes(stmt, 0);
        const char *doc = (const char *)sqlite3_column_text(stmt, 1);
        size_t doc_len = (size_t)sqlite3_column_bytes(stmt, 1);
        if (fn(opaque, id ? id : "", id_len, doc ? doc : "", doc_len, err, err_size) != 0)
            status = RDAPSYNC_ERROR;
    }
    if (status == RDAPSYNC_OK && rc != SQLITE_DONE)
        status = fail_rc(st, rc, err, err_size);
    sqlite3_finalize(stmt);
    return status;
}

/* ---- find ---- */

rdapsync_status sqs_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    sqs_state *st = state;
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    char *pattern = status == RDAPSYNC_OK && subject.needle ? rdapsync_sinktk_like_pattern(subject.needle) : NULL;
    if (status == RDAPSYNC_OK && !st->db) {
        snprintf(err, err_size, "sqlite sink: the database is not open");
        status = RDAPSYNC_RETRY;
    }
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        rdapsync_sinktk_subject_scan f = {sqs_host, "sqlite", &subject, parts[i].where, parts[i].heads, fn, arg};
        char *sql = select_sql(st, &parts[i], st->names.key, true, pattern != NULL);
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

static int collect_row(void *opaque, const char *rowid, size_t rowid_len, const char *doc, size_t doc_len, char *err,
                       size_t err_size)
{
    collect_ctx *c = opaque;
    if (c->heads)
        return rdapsync_sinktk_scrub_list_add_heads(&c->list, c->scrub, rowid, rowid_len, doc, doc_len, err, err_size);
    return rdapsync_sinktk_scrub_list_add(&c->list, c->scrub, rowid, rowid_len, doc, doc_len, err, err_size);
}

static rdapsync_status apply(sqs_state *st, const part *p, const rdapsync_sinktk_scrub_list *list, uint64_t *changed,
                             char *err, size_t err_size)
{
    char *del = sqs_printf("DELETE FROM %s WHERE rowid = ?1", p->table);
    char *upd = sqs_printf("UPDATE %s SET %s = ?2%s WHERE rowid = ?1", p->table, p->column,
                           p->history ? ", retention_until = json_extract(?2, '$.rdapsync.retention_until')" : "");
    sqlite3_stmt *stmts[2] = {NULL, NULL};
    int rc = del && upd ? sqlite3_prepare_v2(st->db, del, -1, &stmts[0], NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, upd, -1, &stmts[1], NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < list->count; i++) {
        const rdapsync_sinktk_scrub_item *it = &list->items[i];
        sqlite3_stmt *stmt = stmts[it->verdict == RDAPSYNC_SINKTK_REPLACE];
        sqlite3_bind_int64(stmt, 1, strtoll(it->id, NULL, 10));
        if (it->verdict == RDAPSYNC_SINKTK_REPLACE)
            sqlite3_bind_text(stmt, 2, it->doc, (int)it->doc_len, SQLITE_STATIC);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            *changed += (uint64_t)sqlite3_changes(st->db);
            rc = SQLITE_OK;
        }
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
    rdapsync_status status = rc == SQLITE_OK ? RDAPSYNC_OK : fail_rc(st, rc, err, err_size);
    sqlite3_finalize(stmts[0]);
    sqlite3_finalize(stmts[1]);
    free(del);
    free(upd);
    return status;
}

/* Copies every WAL frame into the database and empties the WAL. */
static rdapsync_status checkpoint(sqs_state *st, char *err, size_t err_size)
{
    int log_frames = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done);
    if (rc == SQLITE_BUSY) {
        snprintf(err, err_size, "sqlite sink: the erasure is committed but a reader keeps the WAL from being "
                 "truncated; call again");
        return RDAPSYNC_RETRY;
    }
    return rc == SQLITE_OK ? RDAPSYNC_OK : fail_rc(st, rc, err, err_size);
}

static rdapsync_status scrub_all(sqs_state *st, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                 size_t err_size)
{
    *changed = 0;
    if (!st->db) {
        snprintf(err, err_size, "sqlite sink: the database is not open");
        return RDAPSYNC_RETRY;
    }
    char *pattern = scrub->subject && scrub->subject->needle ? rdapsync_sinktk_like_pattern(scrub->subject->needle)
                                                              : NULL;
    rdapsync_status status = sqs_exec(st->db, "PRAGMA secure_delete=ON; BEGIN IMMEDIATE", err, err_size);
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        collect_ctx c = {.scrub = scrub, .heads = parts[i].heads};
        char *sql = select_sql(st, &parts[i], "rowid", scrub->subject != NULL, pattern != NULL);
        status = sql ? scan(st, sql, pattern, collect_row, &c, err, err_size) : RDAPSYNC_ERROR;
        if (status == RDAPSYNC_OK)
            status = apply(st, &parts[i], &c.list, changed, err, err_size);
        rdapsync_sinktk_scrub_list_free(&c.list, sqs_host);
        free(sql);
    }
    if (status == RDAPSYNC_OK) {
        status = sqs_exec(st->db, "COMMIT", err, err_size);
    } else if (!sqlite3_get_autocommit(st->db)) {
        char ignored[256];
        sqs_exec(st->db, "ROLLBACK", ignored, sizeof(ignored));
    }
    if (status == RDAPSYNC_OK)
        status = checkpoint(st, err, err_size);
    free(pattern);
    return status;
}

rdapsync_status sqs_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = sqs_host, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_all(state, &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status sqs_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = sqs_host, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_all(state, &scrub, purged, err, err_size);
}
