/*
 * The highest offset per (stream, partition). A sink sees a handful of
 * partitions, so a linear map beats anything cleverer. A NULL stream is
 * kept as "" so that stores can hold it in a NOT NULL key column.
 */
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

static const char *stream_or_empty(const char *stream)
{
    return stream ? stream : "";
}

static rdapsync_sinktk_position *lookup(const rdapsync_sinktk_positions *positions, const char *stream,
                                        int32_t partition)
{
    for (size_t i = 0; i < positions->count; i++)
        if (positions->items[i].partition == partition && strcmp(positions->items[i].stream, stream) == 0)
            return &positions->items[i];
    return NULL;
}

int64_t rdapsync_sinktk_positions_find(const rdapsync_sinktk_positions *positions, const char *stream,
                                       int32_t partition)
{
    const rdapsync_sinktk_position *p = lookup(positions, stream_or_empty(stream), partition);
    return p ? p->offset : -1;
}

bool rdapsync_sinktk_positions_cover(const rdapsync_sinktk_positions *positions, const rdapsync_record *record)
{
    if (!positions || positions->count == 0)
        return false;
    int64_t offset = rdapsync_sinktk_positions_find(positions, record->position.stream, record->position.partition);
    return offset >= 0 && record->position.offset <= offset;
}

int rdapsync_sinktk_positions_note(rdapsync_sinktk_positions *positions, const char *stream, int32_t partition,
                                   int64_t offset)
{
    stream = stream_or_empty(stream);
    rdapsync_sinktk_position *p = lookup(positions, stream, partition);
    if (p) {
        if (offset > p->offset)
            p->offset = offset;
        return 0;
    }
    if (positions->count == positions->capacity) {
        size_t capacity = positions->capacity ? positions->capacity * 2 : 4;
        rdapsync_sinktk_position *items = realloc(positions->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        positions->items = items;
        positions->capacity = capacity;
    }
    char *copy = strdup(stream);
    if (!copy)
        return -1;
    positions->items[positions->count++] =
        (rdapsync_sinktk_position){ .stream = copy, .partition = partition, .offset = offset };
    return 0;
}

int rdapsync_sinktk_positions_note_batch(rdapsync_sinktk_positions *positions, const rdapsync_host *host,
                                         const rdapsync_batch *batch)
{
    size_t n = host->batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        const rdapsync_position *p = &host->batch_get(batch, i)->position;
        if (rdapsync_sinktk_positions_note(positions, p->stream, p->partition, p->offset) != 0)
            return -1;
    }
    return 0;
}

int rdapsync_sinktk_positions_merge(rdapsync_sinktk_positions *into, const rdapsync_sinktk_positions *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const rdapsync_sinktk_position *p = &from->items[i];
        if (rdapsync_sinktk_positions_note(into, p->stream, p->partition, p->offset) != 0)
            return -1;
    }
    return 0;
}

void rdapsync_sinktk_positions_clear(rdapsync_sinktk_positions *positions)
{
    for (size_t i = 0; i < positions->count; i++)
        free(positions->items[i].stream);
    positions->count = 0;
}

void rdapsync_sinktk_positions_free(rdapsync_sinktk_positions *positions)
{
    rdapsync_sinktk_positions_clear(positions);
    free(positions->items);
    memset(positions, 0, sizeof(*positions));
}
