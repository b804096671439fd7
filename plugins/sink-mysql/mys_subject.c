/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the data table, the history table, and with conflicts: {...} the heads
 * and the conflict log (each head scrubbed, every version kept).
 * Candidates come from a LIKE
 * prefilter on the lower-cased document text (the columns have a binary
 * collation, so LIKE alone would compare case), and the toolkit's matcher
 * decides. Each row is named by the server as the WHERE clause that finds
 * it again (its key, or id in append mode; the history's primary key), in
 * hexadecimal literals, so no byte of a key is ever re-escaped here. An
 * erasure is one transaction: rows are read FOR UPDATE, then deleted or
 * rewritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

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
static size_t parts_of(const mys_state *st, part out[MAX_PARTS])
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

static rdapsync_status failed(mys_state *st, char *err, size_t err_size)
{
    mys_error_text(st->conn, err, err_size);
    return mys_failure_status(mys_classify(mysql_errno(st->conn)));
}

/* The row's WHERE clause, computed by the server. */
static char *row_id_sql(const mys_state *st, const part *p)
{
    const char *k = st->names.key;
    if (p->history)
        return mys_printf("CONCAT('%s=X''', HEX(%s), ''' AND valid_from=', valid_from, ' AND origin=X''', "
                          "HEX(origin), ''' AND seq=', seq)", k, k);
    if (st->cfg->mode == RDAPSYNC_SINKTK_APPEND)
        return mys_printf("CONCAT('id=', id)");
    return mys_printf("CONCAT('%s=X''', HEX(%s), '''')", k, k);
}

/* SELECT <id>, doc FROM <part> WHERE doc IS NOT NULL AND <prefilter>. */
static char *select_sql(const mys_state *st, const part *p, const char *id_expr, const char *pattern, bool subject,
                        bool lock)
{
    mys_buffer sql = {0};
    const char *c = p->column;
    int rc = mys_buffer_printf(&sql, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL", id_expr, c, p->table, c);
    if (rc == 0 && subject && pattern)
        rc = mys_buffer_printf(&sql, " AND LOWER(%s) LIKE ", c) || mys_text_literal(&sql, pattern, strlen(pattern));
    else if (rc == 0 && !subject && p->history)
        rc = mys_buffer_printf(&sql, " AND retention_until IS NOT NULL");
    else if (rc == 0 && !subject)
        rc = mys_buffer_printf(&sql, " AND %s LIKE '%%\"retention\\_until\"%%'", c);
    if (rc == 0 && lock)
        rc = mys_buffer_printf(&sql, " FOR UPDATE");
    if (rc == 0 && mys_buffer_append(&sql, "", 1) == 0)
        return sql.data;
    mys_buffer_free(&sql);
    return NULL;
}

typedef int (*row_fn)(void *opaque, const char *id, size_t id_len, const char *doc, size_t doc_len, char *err,
                      size_t err_size);

static rdapsync_status scan(mys_state *st, const char *sql, row_fn fn, void *opaque, char *err, size_t err_size)
{
    if (!st->conn) {
        snprintf(err, err_size, "mysql sink: not connected");
        return RDAPSYNC_RETRY;
    }
    if (mysql_real_query(st->conn, sql, (unsigned long)strlen(sql)) != 0)
        return failed(st, err, err_size);
    /* Row by row: a full scan (phones) holds one document at a time. */
    MYSQL_RES *res = mysql_use_result(st->conn);
    if (!res)
        return failed(st, err, err_size);
    rdapsync_status status = RDAPSYNC_OK;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        unsigned long *lengths = mysql_fetch_lengths(res);
        if (status == RDAPSYNC_OK && fn(opaque, row[0] ? row[0] : "", row[0] ? lengths[0] : 0, row[1],
                                        lengths[1], err, err_size) != 0)
            status = RDAPSYNC_ERROR; /* the rest is read and dropped */
    }
    if (status == RDAPSYNC_OK && mysql_errno(st->conn))
        status = failed(st, err, err_size);
    mysql_free_result(res);
    return status;
}

/* ---- find ---- */

rdapsync_status mys_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    mys_state *st = state;
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    char *pattern = status == RDAPSYNC_OK && subject.needle ? rdapsync_sinktk_like_pattern(subject.needle) : NULL;
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        rdapsync_sinktk_subject_scan f = {mys_host, "mysql", &subject, parts[i].where, parts[i].heads, fn, arg};
        char *key = mys_printf("CONVERT(%s USING utf8mb4)", st->names.key);
        char *sql = key ? select_sql(st, &parts[i], key, pattern, true, false) : NULL;
        status = sql ? scan(st, sql, rdapsync_sinktk_subject_found, &f, err, err_size) : RDAPSYNC_ERROR;
        free(sql);
        free(key);
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

static int collect_row(void *opaque, const char *id, size_t id_len, const char *doc, size_t doc_len, char *err,
                       size_t err_size)
{
    collect_ctx *c = opaque;
    if (c->heads)
        return rdapsync_sinktk_scrub_list_add_heads(&c->list, c->scrub, id, id_len, doc, doc_len, err, err_size);
    return rdapsync_sinktk_scrub_list_add(&c->list, c->scrub, id, id_len, doc, doc_len, err, err_size);
}

static int change_sql(mys_buffer *sql, const part *p, const rdapsync_sinktk_scrub_item *it)
{
    sql->len = 0;
    if (it->verdict != RDAPSYNC_SINKTK_REPLACE)
        return mys_buffer_printf(sql, "DELETE FROM %s WHERE %s", p->table, it->id) || mys_buffer_append(sql, "", 1);
    if (mys_buffer_printf(sql, "UPDATE %s SET %s = ", p->table, p->column) ||
        mys_text_literal(sql, it->doc, it->doc_len))
        return -1;
    if (p->history) {
        char why[128];
        rdapsync_value *doc = mys_host->json->parse(it->doc, it->doc_len, why, sizeof(why));
        const char *until = rdapsync_sinktk_retention_until(mys_host, doc);
        int rc = mys_buffer_printf(sql, ", retention_until = ") ||
                 mys_text_literal(sql, until, until ? strlen(until) : 0);
        mys_host->json->decref(doc);
        if (rc)
            return -1;
    }
    return mys_buffer_printf(sql, " WHERE %s", it->id) || mys_buffer_append(sql, "", 1);
}

static rdapsync_status apply(mys_state *st, const part *p, const rdapsync_sinktk_scrub_list *list, uint64_t *changed,
                             char *err, size_t err_size)
{
    mys_buffer sql = {0};
    rdapsync_status status = RDAPSYNC_OK;
    for (size_t i = 0; status == RDAPSYNC_OK && i < list->count; i++) {
        if (change_sql(&sql, p, &list->items[i]) != 0) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
        } else if ((status = mys_exec(st->conn, sql.data, err, err_size)) == RDAPSYNC_OK) {
            *changed += (uint64_t)mysql_affected_rows(st->conn);
        }
    }
    mys_buffer_free(&sql);
    return status;
}

static rdapsync_status scrub_all(mys_state *st, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                 size_t err_size)
{
    *changed = 0;
    if (!st->conn) {
        snprintf(err, err_size, "mysql sink: not connected");
        return RDAPSYNC_RETRY;
    }
    char *pattern = scrub->subject && scrub->subject->needle ? rdapsync_sinktk_like_pattern(scrub->subject->needle)
                                                              : NULL;
    rdapsync_status status = mys_exec(st->conn, "START TRANSACTION", err, err_size);
    part parts[MAX_PARTS];
    size_t n = parts_of(st, parts);
    for (size_t i = 0; status == RDAPSYNC_OK && i < n; i++) {
        collect_ctx c = {.scrub = scrub, .heads = parts[i].heads};
        char *id = row_id_sql(st, &parts[i]);
        char *sql = id ? select_sql(st, &parts[i], id, pattern, scrub->subject != NULL, true) : NULL;
        status = sql ? scan(st, sql, collect_row, &c, err, err_size) : RDAPSYNC_ERROR;
        if (status == RDAPSYNC_OK)
            status = apply(st, &parts[i], &c.list, changed, err, err_size);
        rdapsync_sinktk_scrub_list_free(&c.list, mys_host);
        free(sql);
        free(id);
    }
    if (status == RDAPSYNC_OK) {
        status = mys_exec(st->conn, "COMMIT", err, err_size);
    } else {
        char ignored[256];
        mys_exec(st->conn, "ROLLBACK", ignored, sizeof(ignored));
    }
    if (status != RDAPSYNC_OK)
        *changed = 0;
    free(pattern);
    return status;
}

rdapsync_status mys_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = mys_host, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_all(state, &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status mys_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                    uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = mys_host, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_all(state, &scrub, purged, err, err_size);
}
