/*
 * A batch as rows to apply. In upsert mode a key may come several times in
 * one batch; only its greatest version is worth a statement (the guard would
 * keep the older ones out anyway). The older ones stay behind as fallbacks
 * in case the database refuses the newest, so the result does not depend on
 * how records were batched: the rule of the PostgreSQL sink.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

int mys_version_cmp(const rdapsync_version *a, const rdapsync_version *b)
{
    if (a->event_time_ms != b->event_time_ms)
        return a->event_time_ms < b->event_time_ms ? -1 : 1;
    /* strcmp compares as unsigned char: bytewise, like the VARBINARY columns. */
    int c = strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->sequence != b->sequence)
        return a->sequence < b->sequence ? -1 : 1;
    return 0;
}

/* Key ascending (bytewise, shorter first on a common prefix), then version
 * descending: the first record of each key is the one to apply. Sorting by
 * key also makes concurrent tasks lock rows in the same order (fewer
 * deadlocks). */
static int record_order(const void *pa, const void *pb)
{
    const rdapsync_record *a = *(const rdapsync_record *const *)pa;
    const rdapsync_record *b = *(const rdapsync_record *const *)pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return -mys_version_cmp(&a->version, &b->version);
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

int mys_rejects_add(mys_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
{
    if (rejects->count == rejects->capacity) {
        size_t capacity = rejects->capacity ? rejects->capacity * 2 : 8;
        mys_reject *items = realloc(rejects->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        rejects->items = items;
        rejects->capacity = capacity;
    }
    char reason[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    char *copy = strdup(reason);
    if (!copy)
        return -1;
    rejects->items[rejects->count].record = record;
    rejects->items[rejects->count].reason = copy;
    rejects->count++;
    return 0;
}

void mys_rejects_clear(mys_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        free(rejects->items[i].reason);
    rejects->count = 0;
}

/* Why a record can never be stored, or NULL. The same rules as the other
 * SQL sinks, so that the same records are refused everywhere. */
static const char *record_problem(const rdapsync_record *record, int mode)
{
    if (!record->key && mode == MYS_MODE_UPSERT)
        return "record has no key (upsert mode needs one)";
    if (record->key && memchr(record->key, '\0', record->key_len))
        return "key contains a NUL byte";
    if (record->op == RDAPSYNC_OP_UPSERT && !record->value)
        return record->error ? record->error : "upsert without a document";
    return NULL;
}

/* The exactly-once table already holds this record's position: it was
 * committed before (a replay after a crash). */
static bool already_committed(const rdapsync_record *record, const mys_positions *committed)
{
    if (!committed || committed->count == 0)
        return false;
    int64_t offset = mys_positions_find(committed, record->position.stream, record->position.partition);
    return offset >= 0 && record->position.offset <= offset;
}

int mys_rows_build(const rdapsync_batch *batch, int mode, const mys_positions *committed, mys_rows *out,
                   mys_rejects *rejects, uint64_t *skipped)
{
    size_t n = mys_host->batch_count(batch);
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return 0;
    out->sorted = malloc(n * sizeof(*out->sorted));
    out->rows = malloc(n * sizeof(*out->rows));
    if (!out->sorted || !out->rows)
        goto fail;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *record = mys_host->batch_get(batch, i);
        if (already_committed(record, committed)) {
            (*skipped)++;
            continue;
        }
        const char *problem = record_problem(record, mode);
        if (problem) {
            if (mys_rejects_add(rejects, record, "mysql sink: %s (key \"%.200s\")", problem,
                                record->key ? record->key : "") != 0)
                goto fail;
            continue;
        }
        out->sorted[out->sorted_count++] = record;
    }

    if (mode == MYS_MODE_APPEND) {
        for (size_t i = 0; i < out->sorted_count; i++)
            out->rows[out->count++] = (mys_row){ .record = out->sorted[i], .fallback = SIZE_MAX };
        return 0;
    }
    qsort(out->sorted, out->sorted_count, sizeof(*out->sorted), record_order);
    for (size_t i = 0; i < out->sorted_count; i++) {
        if (i > 0 && same_key(out->sorted[i - 1], out->sorted[i]))
            continue;
        bool has_older = i + 1 < out->sorted_count && same_key(out->sorted[i], out->sorted[i + 1]);
        out->rows[out->count++] = (mys_row){ .record = out->sorted[i], .fallback = has_older ? i + 1 : SIZE_MAX };
    }
    return 0;

fail:
    mys_rows_free(out);
    return -1;
}

bool mys_rows_use_fallback(mys_rows *rows, size_t index)
{
    mys_row *row = &rows->rows[index];
    size_t next = row->fallback;
    if (next == SIZE_MAX)
        return false;
    const rdapsync_record *record = rows->sorted[next];
    bool has_older = next + 1 < rows->sorted_count && same_key(record, rows->sorted[next + 1]);
    *row = (mys_row){ .record = record, .fallback = has_older ? next + 1 : SIZE_MAX };
    return true;
}

void mys_rows_free(mys_rows *rows)
{
    free(rows->rows);
    free(rows->sorted);
    memset(rows, 0, sizeof(*rows));
}
