/*
 * The write path: multi-row INSERT ... ON DUPLICATE KEY UPDATE statements
 * of up to `statement_rows` rows and `statement_bytes` bytes (kept under
 * the server's max_allowed_packet), inside the flush's transaction.
 *
 * While the server runs one statement, the next is built (documents
 * serialized and escaped): the client's work and the server's overlap, with
 * never more than one statement in flight, so a refused statement is always
 * the last one sent. Nothing hides the building of a write's first
 * statement, so statements start small and double up to statement_rows: the
 * server takes several times longer per row than the client, so each
 * statement hides the building of one twice its size, and the server waits
 * only for the first, smallest one.
 *
 * A statement refused for its data (strict mode: a key too long, a CHECK
 * or trigger of the user's) is undone by the server on its own while the
 * transaction stays open. Its rows are then sent again in halves, and the
 * halves of the refused halves, down to the single rows the server
 * refuses: those are rejected with the server's message and replaced by
 * their key's next older version in the batch; every other row lands. One
 * refused row among n costs about 2 log2(n) statements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

/* What one statement came to. */
typedef struct outcome {
    bool refused;       /* refused for a row's data (status stays OK) */
    char message[1024]; /* the server's message when refused */
} outcome;

typedef struct apply {
    mys_state *st;
    rdapsync_sinktk_plan *rows;
    rdapsync_sinktk_rejects *rejects;
    mys_tally *tally;
    char *err;
    size_t err_size;
    size_t tail_len;
} apply;

static rdapsync_status out_of_memory(apply *a)
{
    snprintf(a->err, a->err_size, "out of memory");
    return RDAPSYNC_ERROR;
}

static rdapsync_status reject(apply *a, size_t index, const char *reason)
{
    const rdapsync_record *record = a->rows->rows[index].record;
    if (rdapsync_sinktk_rejects_add(a->rejects, record, "%s (table %s, key \"%.200s\")", reason,
                                    a->st->names.table, record->key ? record->key : "") != 0)
        return out_of_memory(a);
    return RDAPSYNC_OK;
}

/*
 * One statement into `buf` from rows [from, limit): rows until `max_rows`
 * (at most statement_rows) or the byte limit. *end gets the first row not taken,
 * *sent how many rows went in (rows already given up on are skipped). A row
 * too big for any statement is rejected here, its fallback tried instead.
 */
static rdapsync_status build(apply *a, size_t from, size_t limit, size_t max_rows, mys_buffer *buf, size_t *end,
                             size_t *sent)
{
    mys_state *st = a->st;
    size_t i = from, n = 0;

    buf->len = 0;
    if (mys_buffer_append(buf, st->statement_head, strlen(st->statement_head)) != 0)
        return out_of_memory(a);
    size_t head_len = buf->len;
    while (i < limit && n < max_rows) {
        rdapsync_sinktk_row *row = &a->rows->rows[i];
        if (row->state == MYS_ROW_DONE) {
            i++;
            continue;
        }
        size_t mark = buf->len;
        if ((n > 0 && mys_buffer_append(buf, ",", 1) != 0) || mys_text_row(buf, row->record) != 0)
            return out_of_memory(a);
        if (buf->len + a->tail_len <= st->max_statement) {
            n++, i++;
            continue;
        }
        size_t row_len = buf->len - mark;
        buf->len = mark;
        if (n > 0)
            break;
        char reason[256];
        snprintf(reason, sizeof(reason),
                 "mysql sink: the record needs a statement of %zu bytes, over the limit of %zu (statement_bytes, "
                 "and the server's max_allowed_packet)",
                 head_len + row_len + a->tail_len, st->max_statement);
        rdapsync_status status = reject(a, i, reason);
        if (status != RDAPSYNC_OK)
            return status;
        if (!rdapsync_sinktk_plan_fallback(a->rows, i))
            row->state = MYS_ROW_DONE, i++;
    }
    if (mys_buffer_append(buf, st->statement_tail, a->tail_len) != 0)
        return out_of_memory(a);
    *end = i;
    *sent = n;
    return RDAPSYNC_OK;
}

/* "Records: N  Duplicates: D  Warnings: W" of a multi-row INSERT. */
static unsigned long duplicates_of(MYSQL *conn)
{
    const char *info = mysql_info(conn);
    const char *dup = info ? strstr(info, "Duplicates:") : NULL;
    return dup ? strtoul(dup + 11, NULL, 10) : 0;
}

/* Counts what a finished statement of `sent` rows did. With ON DUPLICATE
 * KEY UPDATE the server counts an inserted row once, a changed row twice
 * ("Duplicates" of them), and a row the guard kept out not at all. */
static void count(apply *a, size_t sent)
{
    MYSQL *conn = a->st->conn;
    uint64_t affected = mysql_affected_rows(conn);
    uint64_t inserted, updated;

    a->tally->statements++;
    if (a->st->cfg->mode == RDAPSYNC_SINKTK_APPEND) {
        a->tally->applied += sent;
        return;
    }
    if (sent == 1) {
        inserted = affected == 1;
        updated = affected == 2;
    } else {
        updated = duplicates_of(conn);
        inserted = affected >= 2 * updated ? affected - 2 * updated : 0;
    }
    uint64_t applied = inserted + updated <= sent ? inserted + updated : sent;
    a->tally->applied += applied;
    a->tally->stale += sent - applied;
}

/* Sorts the connection's last error: a data refusal goes into `out`, the
 * rest becomes the write's answer. */
static rdapsync_status classify_error(apply *a, outcome *out)
{
    MYSQL *conn = a->st->conn;
    mys_failure failure = mys_classify(mysql_errno(conn));
    if (failure == MYS_FAIL_DATA) {
        out->refused = true;
        mys_error_text(conn, out->message, sizeof(out->message));
        return RDAPSYNC_OK;
    }
    mys_error_text(conn, a->err, a->err_size);
    return mys_failure_status(failure);
}

/* Runs one built statement and waits for it. */
static rdapsync_status execute(apply *a, const mys_buffer *buf, size_t sent, outcome *out)
{
    out->refused = false;
    if (mysql_real_query(a->st->conn, buf->data, (unsigned long)buf->len) != 0)
        return classify_error(a, out);
    count(a, sent);
    return RDAPSYNC_OK;
}

static rdapsync_status refine(apply *a, size_t from, size_t to, const char *message);

/* Runs rows [from, to) in as many statements as they need, one at a time
 * (in the third buffer: the other two may hold the next statement). */
static rdapsync_status run_range(apply *a, size_t from, size_t to)
{
    mys_buffer *buf = &a->st->statements[2];
    while (from < to) {
        size_t end = from, sent = 0;
        outcome out;
        rdapsync_status status = build(a, from, to, (size_t)a->st->cfg->statement_rows, buf, &end, &sent);
        if (status == RDAPSYNC_OK && sent > 0) {
            a->tally->resent += sent;
            status = execute(a, buf, sent, &out);
            if (status == RDAPSYNC_OK && out.refused)
                status = refine(a, from, end, out.message);
        }
        if (status != RDAPSYNC_OK)
            return status;
        from = end;
    }
    return RDAPSYNC_OK;
}

/* The statement of rows [from, to) was refused with `message`: find the
 * rows at fault. */
static rdapsync_status refine(apply *a, size_t from, size_t to, const char *message)
{
    size_t live = 0, last = from;
    for (size_t i = from; i < to; i++)
        if (a->rows->rows[i].state != MYS_ROW_DONE)
            live++, last = i;
    if (live == 0)
        return RDAPSYNC_OK;
    if (live == 1) {
        char reason[1200];
        snprintf(reason, sizeof(reason), "mysql refused the record: %s", message);
        rdapsync_status status = reject(a, last, reason);
        if (status != RDAPSYNC_OK)
            return status;
        if (!rdapsync_sinktk_plan_fallback(a->rows, last)) {
            a->rows->rows[last].state = MYS_ROW_DONE;
            return RDAPSYNC_OK;
        }
        /* The key's next older version, alone: refused too, it goes the same way. */
        return run_range(a, last, last + 1);
    }
    size_t mid = from, seen = 0;
    while (seen < live / 2)
        seen += a->rows->rows[mid++].state != MYS_ROW_DONE;
    rdapsync_status status = run_range(a, from, mid);
    return status == RDAPSYNC_OK ? run_range(a, mid, to) : status;
}

rdapsync_status mys_apply(mys_state *st, rdapsync_sinktk_plan *rows, rdapsync_sinktk_rejects *rejects,
                          mys_tally *tally, char *err, size_t err_size)
{
    apply a = { .st = st, .rows = rows, .rejects = rejects, .tally = tally, .err = err, .err_size = err_size,
                .tail_len = strlen(st->statement_tail) };
    mys_buffer *current = &st->statements[0], *next = &st->statements[1];
    size_t from = 0, to = 0, sent = 0;
    size_t full = (size_t)st->cfg->statement_rows;
    size_t ramp = full / 8 ? full / 8 : 1;

    rdapsync_status status = build(&a, 0, rows->count, ramp, current, &to, &sent);
    while (status == RDAPSYNC_OK && sent > 0) {
        outcome out = { .refused = false };
        size_t next_to = to, next_sent = 0;
        rdapsync_status built = RDAPSYNC_OK;
        ramp = ramp < full / 2 ? ramp * 2 : full;
        bool on_the_wire = mysql_send_query(st->conn, current->data, (unsigned long)current->len) == 0;
        if (on_the_wire) {
            /* Build the next statement while the server works on this one. */
            built = build(&a, to, rows->count, ramp, next, &next_to, &next_sent);
            if (mysql_read_query_result(st->conn) == 0)
                count(&a, sent);
            else
                status = classify_error(&a, &out);
        } else {
            status = classify_error(&a, &out);
        }
        if (status != RDAPSYNC_OK)
            return status;
        if (built != RDAPSYNC_OK)
            return built;
        if (out.refused) {
            if ((status = refine(&a, from, to, out.message)) != RDAPSYNC_OK)
                return status;
            if (!on_the_wire &&
                (status = build(&a, to, rows->count, ramp, next, &next_to, &next_sent)) != RDAPSYNC_OK)
                return status;
        }
        mys_buffer *t = current;
        current = next;
        next = t;
        from = to;
        to = next_to;
        sent = next_sent;
    }
    return status;
}
