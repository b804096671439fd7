#include "runtime/dead_letter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model/batch.h"
#include "model/batch_api.h"

static int add_text(rdapsync_batch *batch, rdapsync_record *record, const char *name, const char *value)
{
    if (!value)
        value = "";
    return batch_record_add_header(batch, record, name, value, strlen(value));
}

rdapsync_record *dead_letter_add(rdapsync_batch *batch, const rdapsync_record *record, const dead_letter_info *info)
{
    char partition[16], offset[24];
    rdapsync_record *copy;
    const char *reason = info->reason && *info->reason ? info->reason : "(no reason given)";

    if (batch_room(batch) == 0)
        return NULL;
    copy = batch_copy_record(batch, record);
    if (!copy)
        return NULL;
    snprintf(partition, sizeof(partition), "%" PRId32, record->position.partition);
    snprintf(offset, sizeof(offset), "%" PRId64, record->position.offset);
    if (batch_record_set_error(batch, copy, reason) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_REASON, reason) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_PIPELINE, info->pipeline) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_PLUGIN, info->plugin) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_STAGE, error_stage_str(info->stage)) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_STREAM, record->position.stream) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_PARTITION, partition) != 0 ||
        add_text(batch, copy, DEAD_LETTER_HEADER_OFFSET, offset) != 0) {
        /* Take the half-labelled copy back out: a dead letter without its
         * labels would be worse than a clear failure. */
        batch_truncate(batch, batch_count(batch) - 1);
        return NULL;
    }
    return copy;
}

void dead_letter_describe(const rdapsync_record *record, char *out, size_t size)
{
    int n;

    if (record->key)
        n = snprintf(out, size, "key %.*s", (int)(record->key_len > 200 ? 200 : record->key_len), record->key);
    else
        n = snprintf(out, size, "key (none)");
    if (n < 0 || (size_t)n >= size)
        return;
    if (record->position.stream)
        snprintf(out + n, size - (size_t)n, " at stream %s partition %" PRId32 " offset %" PRId64,
                 record->position.stream, record->position.partition, record->position.offset);
    else
        snprintf(out + n, size - (size_t)n, " at partition %" PRId32 " offset %" PRId64, record->position.partition,
                 record->position.offset);
}
