/*
 * Batches: a bounded array of records plus the memory their strings live in
 * (an arena freed all at once). The host-side half of the SDK's
 * record/batch functions.
 */
#ifndef RDAPSYNC_HOST_BATCH_H
#define RDAPSYNC_HOST_BATCH_H

#include <stddef.h>

#include <rdapsync/rdapsync.h>

/* A batch that accepts at most max_records records. Caller frees with batch_free(). */
rdapsync_batch *batch_new(size_t max_records);
/* Releases every record's value and the arena; the batch is empty again. */
void batch_reset(rdapsync_batch *batch);
void batch_free(rdapsync_batch *batch);
/* Mutable access for the host (transforms get records this way). */
rdapsync_record *batch_record(rdapsync_batch *batch, size_t index);
/* Copies `record` (strings, headers, a new reference to its value) into
 * `batch`; NULL when full. */
rdapsync_record *batch_copy_record(rdapsync_batch *batch, const rdapsync_record *record);
/* Moves record `index` of `from` to the end of `batch` (strings copied,
 * the value's reference taken over: `from`'s record keeps no value), past
 * `batch`'s byte limit but not its record count; NULL when full or out of
 * memory (then `from` keeps the record whole). */
rdapsync_record *batch_move_record(rdapsync_batch *batch, rdapsync_batch *from, size_t index);
/* Bytes of keys, headers and raw data held (values not counted). */
size_t batch_bytes(const rdapsync_batch *batch);

#endif
