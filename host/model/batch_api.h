/*
 * The SDK's batch and record functions (host.h) as batch.c implements them,
 * plus the host-only accounting the task needs. host_api.c puts these in the
 * services table; the task calls them directly.
 */
#ifndef RDAPSYNC_HOST_BATCH_API_H
#define RDAPSYNC_HOST_BATCH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

size_t batch_count(const rdapsync_batch *batch);
const rdapsync_record *batch_get(const rdapsync_batch *batch, size_t index);
size_t batch_room(const rdapsync_batch *batch);
rdapsync_record *batch_record_add(rdapsync_batch *batch);
int batch_record_set_key(rdapsync_batch *batch, rdapsync_record *record, const char *key, size_t len);
int batch_record_set_value(rdapsync_batch *batch, rdapsync_record *record, rdapsync_value *value);
int batch_record_set_op(rdapsync_batch *batch, rdapsync_record *record, rdapsync_op op);
int batch_record_set_version(rdapsync_batch *batch, rdapsync_record *record, int64_t event_time_ms,
                             const char *origin, int64_t sequence);
int batch_record_set_position(rdapsync_batch *batch, rdapsync_record *record, const char *stream,
                              int32_t partition, int64_t offset);
int batch_record_add_header(rdapsync_batch *batch, rdapsync_record *record, const char *name, const char *value,
                            size_t value_len);
int batch_record_set_bad(rdapsync_batch *batch, rdapsync_record *record, const char *raw, size_t raw_len,
                         const char *reason);
/* Sets (or clears with NULL) the record's error text without touching its
 * value or raw bytes: the dead-letter copy of a good record keeps both. */
int batch_record_set_error(rdapsync_batch *batch, rdapsync_record *record, const char *reason);
int batch_record_set_vv(rdapsync_batch *batch, rdapsync_record *record, const rdapsync_vv_entry *entries,
                        size_t count);
const rdapsync_header *batch_record_header(const rdapsync_record *record, const char *name);
/* Host only: replaces the value of the first header called `name`, or
 * appends one (the task's traceparent, written before the sink's write). */
int batch_record_put_header(rdapsync_batch *batch, rdapsync_record *record, const char *name, const char *value,
                            size_t value_len);

/* Once batch_bytes() + batch_value_bytes() reach `max_bytes` (0 = no limit),
 * batch_room() answers 0 and record_add() NULL: the batch is full by size. */
void batch_set_byte_limit(rdapsync_batch *batch, size_t max_bytes);
/* While `count` is not 0, batch_room() answers as if the batch held at
 * most `count` records: the task hands the source a few records' room at a
 * time so that each record is transformed while its parse is still in the
 * CPU's cache. 0 lifts the limit. */
void batch_set_poll_limit(rdapsync_batch *batch, size_t count);
/* Approximate serialized size of the values held (see json_api_estimate_size). */
size_t batch_value_bytes(const rdapsync_batch *batch);
/* Keeps the records whose keep[i] is true, in order, and releases the
 * values of the others; the arena is untouched (pointers stay valid). */
void batch_keep(rdapsync_batch *batch, const bool *keep);
/* Drops the records from index `count` on (releasing their values). */
void batch_truncate(rdapsync_batch *batch, size_t count);
/* The index of `record` in `batch`, or (size_t)-1 if it is not one of its records. */
size_t batch_index_of(const rdapsync_batch *batch, const rdapsync_record *record);
/* True if the bytes are valid UTF-8 (no overlongs, no surrogates). */
bool batch_utf8_valid(const char *bytes, size_t len);

#endif
