/*
 * A record as the write statement's text parameters (pipeline path), and
 * the growing byte buffer the sink serializes documents and COPY data
 * into: one allocation per write instead of several per document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

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

int pgs_doc_serialize(const rdapsync_record *record, pgs_buffer *buffer)
{
    buffer->len = 0;
    if (record->op == RDAPSYNC_OP_DELETE)
        return 0;
    /* NUL-terminated: libpq reads text parameters up to the NUL. */
    if (pgs_json_serialize(record->value, buffer) != 0 || pgs_buffer_append(buffer, "", 1) != 0)
        return -1;
    buffer->len--;
    return 0;
}

void pgs_row_params(const rdapsync_record *record, const pgs_buffer *doc, pgs_params *params)
{
    bool deleted = record->op == RDAPSYNC_OP_DELETE;

    snprintf(params->numbers[0], sizeof(params->numbers[0]), "%lld", (long long)record->version.event_time_ms);
    snprintf(params->numbers[1], sizeof(params->numbers[1]), "%lld", (long long)record->version.sequence);
    snprintf(params->numbers[2], sizeof(params->numbers[2]), "%d", (int)record->position.partition);
    snprintf(params->numbers[3], sizeof(params->numbers[3]), "%lld", (long long)record->position.offset);

    params->values[PGS_P_KEY] = record->key;
    params->lengths[PGS_P_KEY] = (int)record->key_len;
    params->values[PGS_P_DOC] = deleted ? NULL : doc->data;
    params->lengths[PGS_P_DOC] = deleted ? 0 : (int)doc->len;
    params->values[PGS_P_DELETED] = deleted ? "t" : "f";
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
