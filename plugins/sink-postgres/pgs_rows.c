/*
 * A batch as rows to apply. In upsert mode a key may appear several times
 * in one batch, and one INSERT ... ON CONFLICT cannot touch a row twice (and
 * it would be wasted work anyway): only the greatest version of each key is
 * sent. The older ones stay behind as fallbacks, in case the server refuses
 * the newest, so the result does not depend on how records were batched.
 * Documents are serialized one at a time, right before they are sent, into
 * one reused buffer: the sink holds one serialized document, not a batch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

int pgs_version_cmp(const rdapsync_version *a, const rdapsync_version *b)
{
    if (a->event_time_ms != b->event_time_ms)
        return a->event_time_ms < b->event_time_ms ? -1 : 1;
    /* strcmp compares as unsigned char: bytewise, like COLLATE "C". */
    int c = strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->sequence != b->sequence)
        return a->sequence < b->sequence ? -1 : 1;
    return 0;
}

/* Key ascending (bytewise, shorter first on a common prefix), then version
 * descending: the first record of each key is the one to apply. Sorting by
 * key also makes concurrent tasks lock rows in the same order. */
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
    return -pgs_version_cmp(&a->version, &b->version);
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

int pgs_rejects_add(pgs_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
{
    if (rejects->count == rejects->capacity) {
        size_t capacity = rejects->capacity ? rejects->capacity * 2 : 8;
        pgs_reject *items = realloc(rejects->items, capacity * sizeof(*items));
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

void pgs_rejects_clear(pgs_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        free(rejects->items[i].reason);
    rejects->count = 0;
}

/* Why a record can never be stored, or NULL. */
static const char *record_problem(const rdapsync_record *record, int mode)
{
    if (!record->key && mode == PGS_MODE_UPSERT)
        return "record has no key (upsert mode needs one)";
    if (record->key && memchr(record->key, '\0', record->key_len))
        return "key contains a NUL byte, which PostgreSQL text cannot hold";
    if (record->op == RDAPSYNC_OP_UPSERT && !record->value)
        return record->error ? record->error : "upsert without a document";
    return NULL;
}

/* The position the exactly-once table already holds for this record means
 * it was committed before (a replay after a crash or an unsure COMMIT). */
static bool already_committed(const rdapsync_record *record, const pgs_positions *committed)
{
    if (!committed || committed->count == 0)
        return false;
    int64_t offset = pgs_positions_find(committed, record->position.stream, record->position.partition);
    return offset >= 0 && record->position.offset <= offset;
}

int pgs_buffer_reserve(pgs_buffer *buffer, size_t more)
{
    if (buffer->len + more <= buffer->capacity)
        return 0;
    size_t capacity = buffer->capacity ? buffer->capacity : 16 * 1024;
    while (capacity < buffer->len + more)
        capacity *= 2;
    char *data = realloc(buffer->data, capacity);
    if (!data)
        return -1;
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

int pgs_buffer_append(pgs_buffer *buffer, const char *bytes, size_t len)
{
    if (pgs_buffer_reserve(buffer, len) != 0)
        return -1;
    memcpy(buffer->data + buffer->len, bytes, len);
    buffer->len += len;
    return 0;
}

void pgs_buffer_free(pgs_buffer *buffer)
{
    free(buffer->data);
    memset(buffer, 0, sizeof(*buffer));
}

int pgs_row_serialize(pgs_row *row, pgs_buffer *buffer)
{
    if (row->deleted)
        return 0;
    buffer->len = 0;
    /* NUL-terminated: libpq reads text parameters up to the NUL. */
    if (pgs_json_serialize(row->record->value, buffer) != 0 || pgs_buffer_append(buffer, "", 1) != 0)
        return -1;
    row->doc = buffer->data;
    row->doc_len = buffer->len - 1;
    return 0;
}

void pgs_row_release(pgs_row *row)
{
    row->doc = NULL;
    row->doc_len = 0;
}

static void row_init(pgs_row *row, const rdapsync_record *record, size_t fallback)
{
    memset(row, 0, sizeof(*row));
    row->record = record;
    row->deleted = record->op == RDAPSYNC_OP_DELETE;
    row->fallback = fallback;
}

int pgs_rows_build(const rdapsync_batch *batch, int mode, const pgs_positions *committed, pgs_rows *out,
                   pgs_rejects *rejects, uint64_t *skipped)
{
    size_t n = pgs_host->batch_count(batch);
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return 0;
    out->sorted = malloc(n * sizeof(*out->sorted));
    out->rows = malloc(n * sizeof(*out->rows));
    if (!out->sorted || !out->rows)
        goto fail;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *record = pgs_host->batch_get(batch, i);
        if (already_committed(record, committed)) {
            (*skipped)++;
            continue;
        }
        const char *problem = record_problem(record, mode);
        if (problem) {
            if (pgs_rejects_add(rejects, record, "postgres sink: %s (key \"%.200s\")", problem,
                                record->key ? record->key : "") != 0)
                goto fail;
            continue;
        }
        out->sorted[out->sorted_count++] = record;
    }

    if (mode == PGS_MODE_APPEND) {
        for (size_t i = 0; i < out->sorted_count; i++)
            row_init(&out->rows[out->count++], out->sorted[i], SIZE_MAX);
    } else {
        qsort(out->sorted, out->sorted_count, sizeof(*out->sorted), record_order);
        for (size_t i = 0; i < out->sorted_count; i++) {
            if (i > 0 && same_key(out->sorted[i - 1], out->sorted[i]))
                continue;
            bool has_older = i + 1 < out->sorted_count && same_key(out->sorted[i], out->sorted[i + 1]);
            row_init(&out->rows[out->count++], out->sorted[i], has_older ? i + 1 : SIZE_MAX);
        }
    }
    return 0;

fail:
    pgs_rows_free(out);
    return -1;
}

int pgs_rows_use_fallback(pgs_rows *rows, size_t index)
{
    pgs_row *row = &rows->rows[index];
    size_t next = row->fallback;
    if (next == SIZE_MAX)
        return 0;
    const rdapsync_record *record = rows->sorted[next];
    bool has_older = next + 1 < rows->sorted_count && same_key(record, rows->sorted[next + 1]);
    row_init(row, record, has_older ? next + 1 : SIZE_MAX);
    return 1;
}

void pgs_rows_free(pgs_rows *rows)
{
    free(rows->rows);
    free(rows->sorted);
    pgs_buffer_free(&rows->doc_buffer);
    memset(rows, 0, sizeof(*rows));
}

void pgs_row_params(const pgs_row *row, pgs_params *params)
{
    const rdapsync_record *record = row->record;

    snprintf(params->numbers[0], sizeof(params->numbers[0]), "%lld", (long long)record->version.event_time_ms);
    snprintf(params->numbers[1], sizeof(params->numbers[1]), "%lld", (long long)record->version.sequence);
    snprintf(params->numbers[2], sizeof(params->numbers[2]), "%d", (int)record->position.partition);
    snprintf(params->numbers[3], sizeof(params->numbers[3]), "%lld", (long long)record->position.offset);

    params->values[PGS_P_KEY] = record->key;
    params->lengths[PGS_P_KEY] = (int)record->key_len;
    params->values[PGS_P_DOC] = row->deleted ? NULL : row->doc;
    params->lengths[PGS_P_DOC] = row->deleted ? 0 : (int)row->doc_len;
    params->values[PGS_P_DELETED] = row->deleted ? "t" : "f";
    params->lengths[PGS_P_DELETED] = 1;
    params->values[PGS_P_TS] = params->numbers[0];
    params->lengths[PGS_P_TS] = (int)strlen(params->numbers[0]);
    params->values[PGS_P_ORIGIN] = record->version.origin ? record->version.origin : "";
    params->lengths[PGS_P_ORIGIN] = (int)strlen(params->values[PGS_P_ORIGIN]);
    params->values[PGS_P_SEQ] = params->numbers[1];
    params->lengths[PGS_P_SEQ] = (int)strlen(params->numbers[1]);
    params->values[PGS_P_STREAM] = record->position.stream;
    params->lengths[PGS_P_STREAM] = record->position.stream ? (int)strlen(record->position.stream) : 0;
    params->values[PGS_P_PARTITION] = params->numbers[2];
    params->lengths[PGS_P_PARTITION] = (int)strlen(params->numbers[2]);
    params->values[PGS_P_OFFSET] = params->numbers[3];
    params->lengths[PGS_P_OFFSET] = (int)strlen(params->numbers[3]);
}
