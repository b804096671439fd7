/*
 * Batches: a fixed array of records and an arena that holds every string the
 * records point to, so a batch is emptied or freed at once and a record's
 * pointers stay valid until then. Values are reference-counted JSON and are
 * released one by one on reset.
 */
#include "model/batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/batch_api.h"
#include "model/json_api.h"
#include "model/json_tree.h"

#define ARENA_CHUNK_SIZE (64u * 1024u)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    char data[];
} arena_chunk;

/* What the host keeps per record beside the public struct. */
typedef struct record_extra {
    size_t header_capacity;
    size_t value_bytes; /* accounted size of the current value */
} record_extra;

struct rdapsync_batch {
    rdapsync_record *records; /* max_records entries */
    record_extra *extras;     /* parallel to records */
    size_t count;
    size_t max_records;
    size_t bytes;       /* keys, headers, raw, errors */
    size_t value_bytes; /* sum of extras[].value_bytes */
    size_t byte_limit;  /* 0 = none */
    size_t poll_limit;  /* 0 = none; see batch_set_poll_limit */
    arena_chunk *arena; /* newest chunk first */
};

/* ---- arena ---- */

static void *arena_alloc(rdapsync_batch *batch, size_t size)
{
    arena_chunk *chunk = batch->arena;
    size_t aligned = (size + 15u) & ~(size_t)15u;

    if (!chunk || chunk->size - chunk->used < aligned) {
        size_t want = aligned > ARENA_CHUNK_SIZE ? aligned : ARENA_CHUNK_SIZE;
        chunk = malloc(sizeof(*chunk) + want);
        if (!chunk)
            return NULL;
        chunk->size = want;
        chunk->used = 0;
        /* A big one-off allocation goes behind the current chunk so the
         * current chunk's free space is not abandoned. */
        if (batch->arena && aligned > ARENA_CHUNK_SIZE) {
            chunk->next = batch->arena->next;
            batch->arena->next = chunk;
        } else {
            chunk->next = batch->arena;
            batch->arena = chunk;
        }
    }
    void *out = chunk->data + chunk->used;
    chunk->used += aligned;
    return out;
}

/* Keeps the newest standard chunk for the next fill, frees the rest. */
static void arena_reset(rdapsync_batch *batch)
{
    arena_chunk *keep = NULL, *chunk = batch->arena;

    while (chunk) {
        arena_chunk *next = chunk->next;
        if (!keep && chunk->size == ARENA_CHUNK_SIZE) {
            keep = chunk;
            keep->used = 0;
            keep->next = NULL;
        } else {
            free(chunk);
        }
        chunk = next;
    }
    batch->arena = keep;
}

static char *arena_strndup(rdapsync_batch *batch, const char *s, size_t len)
{
    char *out = arena_alloc(batch, len + 1);
    if (!out)
        return NULL;
    if (len)
        memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* ---- lifecycle ---- */

rdapsync_batch *batch_new(size_t max_records)
{
    rdapsync_batch *batch;

    if (max_records == 0)
        max_records = 1;
    batch = calloc(1, sizeof(*batch));
    if (!batch)
        return NULL;
    batch->records = calloc(max_records, sizeof(*batch->records));
    batch->extras = calloc(max_records, sizeof(*batch->extras));
    if (!batch->records || !batch->extras) {
        batch_free(batch);
        return NULL;
    }
    batch->max_records = max_records;
    return batch;
}

void batch_reset(rdapsync_batch *batch)
{
    if (!batch)
        return;
    for (size_t i = 0; i < batch->count; i++)
        json_api_table()->decref(batch->records[i].value);
    memset(batch->records, 0, batch->count * sizeof(*batch->records));
    memset(batch->extras, 0, batch->count * sizeof(*batch->extras));
    batch->count = 0;
    batch->bytes = 0;
    batch->value_bytes = 0;
    arena_reset(batch);
}

void batch_free(rdapsync_batch *batch)
{
    if (!batch)
        return;
    if (batch->records)
        batch_reset(batch);
    while (batch->arena) {
        arena_chunk *next = batch->arena->next;
        free(batch->arena);
        batch->arena = next;
    }
    free(batch->records);
    free(batch->extras);
    free(batch);
}

/* ---- reading ---- */

size_t batch_count(const rdapsync_batch *batch) { return batch ? batch->count : 0; }

const rdapsync_record *batch_get(const rdapsync_batch *batch, size_t index)
{
    return batch && index < batch->count ? &batch->records[index] : NULL;
}

rdapsync_record *batch_record(rdapsync_batch *batch, size_t index)
{
    return batch && index < batch->count ? &batch->records[index] : NULL;
}

size_t batch_bytes(const rdapsync_batch *batch) { return batch ? batch->bytes : 0; }
size_t batch_value_bytes(const rdapsync_batch *batch) { return batch ? batch->value_bytes : 0; }
void batch_set_byte_limit(rdapsync_batch *batch, size_t max_bytes) { batch->byte_limit = max_bytes; }

void batch_set_poll_limit(rdapsync_batch *batch, size_t count) { batch->poll_limit = count; }

size_t batch_room(const rdapsync_batch *batch)
{
    if (!batch)
        return 0;
    if (batch->byte_limit && batch->bytes + batch->value_bytes >= batch->byte_limit)
        return 0;
    size_t limit = batch->max_records;
    if (batch->poll_limit && batch->poll_limit < limit)
        limit = batch->poll_limit;
    return batch->count < limit ? limit - batch->count : 0;
}

size_t batch_index_of(const rdapsync_batch *batch, const rdapsync_record *record)
{
    if (!batch || !record || record < batch->records || record >= batch->records + batch->count)
        return (size_t)-1;
    return (size_t)(record - batch->records);
}

const rdapsync_header *batch_record_header(const rdapsync_record *record, const char *name)
{
    if (!record || !name)
        return NULL;
    for (size_t i = 0; i < record->header_count; i++)
        if (strcmp(record->headers[i].name, name) == 0)
            return &record->headers[i];
    return NULL;
}

/* ---- writing ---- */

/* One validator for the host: the JSON tree's (no overlongs, no surrogates). */
bool batch_utf8_valid(const char *bytes, size_t len) { return jt_utf8_valid(bytes, len); }

/* The record must be one of this batch's: plugins get records only from
 * the batch they are handed, and a stray pointer must not write elsewhere. */
static bool owns(const rdapsync_batch *batch, const rdapsync_record *record)
{
    return batch_index_of(batch, record) != (size_t)-1;
}

/* Appends an empty record; past the byte limit only when `past_bytes`
 * (a record moved in from a chunk the source already filled). */
static rdapsync_record *append(rdapsync_batch *batch, bool past_bytes)
{
    rdapsync_record *record;

    if (!batch || (past_bytes ? batch->count >= batch->max_records : batch_room(batch) == 0))
        return NULL;
    record = &batch->records[batch->count];
    memset(record, 0, sizeof(*record));
    memset(&batch->extras[batch->count], 0, sizeof(batch->extras[0]));
    record->op = RDAPSYNC_OP_UPSERT;
    if (batch->count > 0)
        record->position = batch->records[batch->count - 1].position;
    else
        record->position.partition = -1;
    batch->count++;
    return record;
}

rdapsync_record *batch_record_add(rdapsync_batch *batch) { return append(batch, false); }

int batch_record_set_key(rdapsync_batch *batch, rdapsync_record *record, const char *key, size_t len)
{
    char *copy;

    if (!owns(batch, record))
        return -1;
    if (!key) {
        record->key = NULL;
        record->key_len = 0;
        return 0;
    }
    /* Keys end up as C strings in SQL and file names: a NUL inside would
     * cut them silently, so it is refused like invalid UTF-8. */
    if (memchr(key, '\0', len) || !batch_utf8_valid(key, len))
        return -1;
    copy = arena_strndup(batch, key, len);
    if (!copy)
        return -1;
    record->key = copy;
    record->key_len = len;
    batch->bytes += len;
    return 0;
}

static void account_value(rdapsync_batch *batch, size_t index, rdapsync_value *value)
{
    size_t size = 0;

    if (value) {
        size = json_api_parsed_length(value);
        if (size == 0)
            size = json_api_estimate_size(value);
    }
    batch->value_bytes -= batch->extras[index].value_bytes;
    batch->extras[index].value_bytes = size;
    batch->value_bytes += size;
}

int batch_record_set_value(rdapsync_batch *batch, rdapsync_record *record, rdapsync_value *value)
{
    size_t index = batch_index_of(batch, record);

    if (index == (size_t)-1) {
        json_api_table()->decref(value);
        return -1;
    }
    if (record->value != value) {
        json_api_table()->decref(record->value);
        record->value = value;
    } else {
        /* Setting the same value again: the caller handed one more reference. */
        json_api_table()->decref(value);
    }
    account_value(batch, index, value);
    return 0;
}

int batch_record_set_op(rdapsync_batch *batch, rdapsync_record *record, rdapsync_op op)
{
    if (!owns(batch, record) || (op != RDAPSYNC_OP_UPSERT && op != RDAPSYNC_OP_DELETE))
        return -1;
    record->op = op;
    return 0;
}

int batch_record_set_version(rdapsync_batch *batch, rdapsync_record *record, int64_t event_time_ms,
                             const char *origin, int64_t sequence)
{
    const char *copy = NULL;

    if (!owns(batch, record))
        return -1;
    if (origin) {
        size_t len = strlen(origin);
        /* Records of one batch usually share the origin: reuse the copy. */
        size_t index = batch_index_of(batch, record);
        const char *prev = index > 0 ? batch->records[index - 1].version.origin : NULL;
        if (prev && strcmp(prev, origin) == 0) {
            copy = prev;
        } else {
            copy = arena_strndup(batch, origin, len);
            if (!copy)
                return -1;
            batch->bytes += len;
        }
    }
    record->version.event_time_ms = event_time_ms;
    record->version.origin = copy;
    record->version.sequence = sequence;
    return 0;
}

int batch_record_set_position(rdapsync_batch *batch, rdapsync_record *record, const char *stream,
                              int32_t partition, int64_t offset)
{
    const char *copy = NULL;

    if (!owns(batch, record))
        return -1;
    if (stream) {
        size_t index = batch_index_of(batch, record);
        const char *prev = index > 0 ? batch->records[index - 1].position.stream : NULL;
        if (record->position.stream && strcmp(record->position.stream, stream) == 0)
            copy = record->position.stream;
        else if (prev && strcmp(prev, stream) == 0)
            copy = prev;
        else {
            size_t len = strlen(stream);
            copy = arena_strndup(batch, stream, len);
            if (!copy)
                return -1;
            batch->bytes += len;
        }
    }
    record->position.stream = copy;
    record->position.partition = partition;
    record->position.offset = offset;
    return 0;
}

int batch_record_add_header(rdapsync_batch *batch, rdapsync_record *record, const char *name, const char *value,
                            size_t value_len)
{
    size_t index = batch_index_of(batch, record);
    record_extra *extra;
    rdapsync_header *headers;
    size_t name_len;

    if (index == (size_t)-1 || !name || (!value && value_len))
        return -1;
    extra = &batch->extras[index];
    headers = (rdapsync_header *)record->headers;
    if (record->header_count == extra->header_capacity) {
        /* Grows inside the arena: the old array is abandoned there and
         * freed with the batch. */
        size_t capacity = extra->header_capacity ? extra->header_capacity * 2 : 4;
        rdapsync_header *grown = arena_alloc(batch, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        if (record->header_count)
            memcpy(grown, headers, record->header_count * sizeof(*grown));
        headers = grown;
        record->headers = grown;
        extra->header_capacity = capacity;
    }
    name_len = strlen(name);
    rdapsync_header *h = &headers[record->header_count];
    h->name = arena_strndup(batch, name, name_len);
    h->value = arena_strndup(batch, value ? value : "", value_len);
    if (!h->name || !h->value)
        return -1;
    h->value_len = value_len;
    record->header_count++;
    batch->bytes += name_len + value_len;
    return 0;
}

int batch_record_put_header(rdapsync_batch *batch, rdapsync_record *record, const char *name, const char *value,
                            size_t value_len)
{
    rdapsync_header *h = (rdapsync_header *)batch_record_header(record, name);
    char *copy;

    if (!h)
        return batch_record_add_header(batch, record, name, value, value_len);
    if (batch_index_of(batch, record) == (size_t)-1 || (!value && value_len))
        return -1;
    /* The old value stays in the arena until the batch is reset. */
    copy = arena_strndup(batch, value ? value : "", value_len);
    if (!copy)
        return -1;
    batch->bytes += value_len;
    h->value = copy;
    h->value_len = value_len;
    return 0;
}

int batch_record_set_error(rdapsync_batch *batch, rdapsync_record *record, const char *reason)
{
    char *copy = NULL;

    if (!owns(batch, record))
        return -1;
    if (reason) {
        size_t len = strlen(reason);
        copy = arena_strndup(batch, reason, len);
        if (!copy)
            return -1;
        batch->bytes += len;
    }
    record->error = copy;
    return 0;
}

int batch_record_set_bad(rdapsync_batch *batch, rdapsync_record *record, const char *raw, size_t raw_len,
                         const char *reason)
{
    size_t index = batch_index_of(batch, record);
    char *raw_copy = NULL;

    if (index == (size_t)-1 || (!raw && raw_len))
        return -1;
    if (raw) {
        raw_copy = arena_strndup(batch, raw, raw_len);
        if (!raw_copy)
            return -1;
        batch->bytes += raw_len;
    }
    if (batch_record_set_error(batch, record, reason ? reason : "bad record") != 0)
        return -1;
    record->raw = raw_copy;
    record->raw_len = raw_len;
    json_api_table()->decref(record->value);
    record->value = NULL;
    record->op = RDAPSYNC_OP_UPSERT;
    account_value(batch, index, NULL);
    return 0;
}

static int vv_entry_order(const void *a, const void *b)
{
    return strcmp(((const rdapsync_vv_entry *)a)->region, ((const rdapsync_vv_entry *)b)->region);
}

/* A region string of the previous record's vector equal to `region`, or
 * NULL: records of one batch usually name the same regions, so their
 * copies are shared like the version's origin. */
static const char *shared_region(const rdapsync_batch *batch, size_t index, const char *region)
{
    if (index == 0)
        return NULL;
    const rdapsync_vv *prev = &batch->records[index - 1].vv;
    for (size_t i = 0; i < prev->count; i++)
        if (strcmp(prev->entries[i].region, region) == 0)
            return prev->entries[i].region;
    return NULL;
}

int batch_record_set_vv(rdapsync_batch *batch, rdapsync_record *record, const rdapsync_vv_entry *entries,
                        size_t count)
{
    size_t index = batch_index_of(batch, record);
    rdapsync_vv_entry *copy;

    if (index == (size_t)-1 || (count && !entries))
        return -1;
    if (count == 0) {
        record->vv.entries = NULL;
        record->vv.count = 0;
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        const char *region = entries[i].region;
        if (!region || !*region || entries[i].counter == 0 || !batch_utf8_valid(region, strlen(region)))
            return -1;
    }
    if (count > SIZE_MAX / sizeof(*copy))
        return -1;
    /* Refusals leave the array behind in the arena until the reset, like
     * every other abandoned copy. */
    copy = arena_alloc(batch, count * sizeof(*copy));
    if (!copy)
        return -1;
    memcpy(copy, entries, count * sizeof(*copy));
    qsort(copy, count, sizeof(*copy), vv_entry_order);
    for (size_t i = 1; i < count; i++)
        if (strcmp(copy[i - 1].region, copy[i].region) == 0)
            return -1;
    for (size_t i = 0; i < count; i++) {
        const char *region = shared_region(batch, index, copy[i].region);
        if (!region) {
            size_t len = strlen(copy[i].region);
            region = arena_strndup(batch, copy[i].region, len);
            if (!region)
                return -1;
            batch->bytes += len;
        }
        copy[i].region = region;
    }
    batch->bytes += count * sizeof(copy[0].counter);
    record->vv.entries = copy;
    record->vv.count = count;
    return 0;
}

static rdapsync_record *copy_record(rdapsync_batch *batch, const rdapsync_record *record, bool past_bytes)
{
    rdapsync_record *copy;

    if (!record)
        return NULL;
    copy = append(batch, past_bytes);
    if (!copy)
        return NULL;
    /* Copied as bytes, unchecked: a copy (a dead-letter one especially)
     * must not lose a key that was odd enough to get the record rejected. */
    if (record->key) {
        char *key = arena_strndup(batch, record->key, record->key_len);
        if (!key)
            goto fail;
        copy->key = key;
        copy->key_len = record->key_len;
        batch->bytes += record->key_len;
    }
    copy->op = record->op;
    if (batch_record_set_version(batch, copy, record->version.event_time_ms, record->version.origin,
                                 record->version.sequence) != 0)
        goto fail;
    if (batch_record_set_position(batch, copy, record->position.stream, record->position.partition,
                                  record->position.offset) != 0)
        goto fail;
    if (batch_record_set_vv(batch, copy, record->vv.entries, record->vv.count) != 0)
        goto fail;
    for (size_t i = 0; i < record->header_count; i++) {
        const rdapsync_header *h = &record->headers[i];
        if (batch_record_add_header(batch, copy, h->name, h->value, h->value_len) != 0)
            goto fail;
    }
    if (record->raw) {
        char *raw = arena_strndup(batch, record->raw, record->raw_len);
        if (!raw)
            goto fail;
        copy->raw = raw;
        copy->raw_len = record->raw_len;
        batch->bytes += record->raw_len;
    }
    if (record->error && batch_record_set_error(batch, copy, record->error) != 0)
        goto fail;
    if (record->value &&
        batch_record_set_value(batch, copy, json_api_table()->incref(record->value)) != 0)
        goto fail;
    return copy;

fail:
    /* Undo the append; the arena bytes stay until reset. */
    json_api_table()->decref(copy->value);
    batch->value_bytes -= batch->extras[batch->count - 1].value_bytes;
    memset(copy, 0, sizeof(*copy));
    memset(&batch->extras[batch->count - 1], 0, sizeof(batch->extras[0]));
    batch->count--;
    return NULL;
}

rdapsync_record *batch_copy_record(rdapsync_batch *batch, const rdapsync_record *record)
{
    return copy_record(batch, record, false);
}

rdapsync_record *batch_move_record(rdapsync_batch *batch, rdapsync_batch *from, size_t index)
{
    rdapsync_record *record = batch_record(from, index);
    rdapsync_record *moved = copy_record(batch, record, true);

    if (moved && record->value) {
        /* The copy took a reference; the source's goes. */
        json_api_table()->decref(record->value);
        record->value = NULL;
        from->value_bytes -= from->extras[index].value_bytes;
        from->extras[index].value_bytes = 0;
    }
    return moved;
}

void batch_keep(rdapsync_batch *batch, const bool *keep)
{
    size_t out = 0;

    for (size_t i = 0; i < batch->count; i++) {
        if (keep[i]) {
            if (out != i) {
                batch->records[out] = batch->records[i];
                batch->extras[out] = batch->extras[i];
            }
            out++;
        } else {
            json_api_table()->decref(batch->records[i].value);
            batch->value_bytes -= batch->extras[i].value_bytes;
        }
    }
    if (out < batch->count) {
        memset(&batch->records[out], 0, (batch->count - out) * sizeof(*batch->records));
        memset(&batch->extras[out], 0, (batch->count - out) * sizeof(*batch->extras));
    }
    batch->count = out;
}

void batch_truncate(rdapsync_batch *batch, size_t count)
{
    if (!batch || count >= batch->count)
        return;
    for (size_t i = count; i < batch->count; i++) {
        json_api_table()->decref(batch->records[i].value);
        batch->value_bytes -= batch->extras[i].value_bytes;
    }
    memset(&batch->records[count], 0, (batch->count - count) * sizeof(*batch->records));
    memset(&batch->extras[count], 0, (batch->count - count) * sizeof(*batch->extras));
    batch->count = count;
}
