/*
 * A batch as rows to apply. A key may appear several times in one batch;
 * only its greatest version is sent (two writes of one _id in one unordered
 * bulk would race, and the older one is wasted work anyway). The older ones
 * stay behind as fallbacks, in case the server refuses the newest, so the
 * result does not depend on how records were batched.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgs.h"

int mgs_version_cmp(const rdapsync_version *a, const rdapsync_version *b)
{
    if (a->event_time_ms != b->event_time_ms)
        return a->event_time_ms < b->event_time_ms ? -1 : 1;
    /* strcmp compares as unsigned char: bytewise, like BSON string order. */
    int c = strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->sequence != b->sequence)
        return a->sequence < b->sequence ? -1 : 1;
    return 0;
}

/* Key ascending (bytewise, shorter first on a common prefix), then version
 * descending: the first record of each key is the one to apply. */
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
    return -mgs_version_cmp(&a->version, &b->version);
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

int mgs_rejects_add(mgs_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
{
    if (rejects->count == rejects->capacity) {
        size_t capacity = rejects->capacity ? rejects->capacity * 2 : 8;
        mgs_reject *items = realloc(rejects->items, capacity * sizeof(*items));
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

void mgs_rejects_clear(mgs_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        free(rejects->items[i].reason);
    rejects->count = 0;
}

/* Why a record can never be stored, or NULL. */
static const char *record_problem(const rdapsync_record *record)
{
    if (!record->key)
        return "record has no key (the key is the document's _id)";
    if (memchr(record->key, '\0', record->key_len))
        return "key contains a NUL byte";
    if (record->op == RDAPSYNC_OP_UPSERT && !record->value)
        return record->error ? record->error : "upsert without a document";
    return NULL;
}

static void row_init(mgs_row *row, const rdapsync_record *record, size_t fallback)
{
    memset(row, 0, sizeof(*row));
    row->record = record;
    row->fallback = fallback;
}

int mgs_rows_build(const rdapsync_batch *batch, mgs_rows *out, mgs_rejects *rejects)
{
    size_t n = mgs_host->batch_count(batch);
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return 0;
    out->sorted = malloc(n * sizeof(*out->sorted));
    out->rows = malloc(n * sizeof(*out->rows));
    if (!out->sorted || !out->rows)
        goto fail;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *record = mgs_host->batch_get(batch, i);
        const char *problem = record_problem(record);
        if (problem) {
            if (mgs_rejects_add(rejects, record, "mongodb sink: %s (key \"%.200s\")", problem,
                                record->key ? record->key : "") != 0)
                goto fail;
            continue;
        }
        out->sorted[out->sorted_count++] = record;
    }
    qsort(out->sorted, out->sorted_count, sizeof(*out->sorted), record_order);
    for (size_t i = 0; i < out->sorted_count; i++) {
        if (i > 0 && same_key(out->sorted[i - 1], out->sorted[i]))
            continue;
        bool has_older = i + 1 < out->sorted_count && same_key(out->sorted[i], out->sorted[i + 1]);
        row_init(&out->rows[out->count++], out->sorted[i], has_older ? i + 1 : SIZE_MAX);
    }
    return 0;

fail:
    mgs_rows_free(out);
    return -1;
}

int mgs_rows_use_fallback(mgs_rows *rows, size_t index)
{
    mgs_row *row = &rows->rows[index];
    size_t next = row->fallback;
    if (next == SIZE_MAX)
        return 0;
    const rdapsync_record *record = rows->sorted[next];
    bool has_older = next + 1 < rows->sorted_count && same_key(record, rows->sorted[next + 1]);
    if (row->doc)
        bson_destroy(row->doc);
    row_init(row, record, has_older ? next + 1 : SIZE_MAX);
    return 1;
}

void mgs_rows_free(mgs_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++)
        if (rows->rows[i].doc)
            bson_destroy(rows->rows[i].doc);
    free(rows->rows);
    free(rows->sorted);
    memset(rows, 0, sizeof(*rows));
}
