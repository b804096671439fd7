/*
 * rdapsync SDK: records, positions and batches.
 *
 * The host owns every record and batch. Plugins read record fields directly
 * (they are const for a reason) and change them only through host functions
 * (host.h), which copy strings into the batch's memory. A record is valid
 * until the callback that received it returns, unless said otherwise.
 */
#ifndef RDAPSYNC_RECORD_H
#define RDAPSYNC_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

typedef enum rdapsync_op {
    RDAPSYNC_OP_UPSERT = 0,
    RDAPSYNC_OP_DELETE = 1 /* value is NULL: a tombstone */
} rdapsync_op;

/*
 * Where a record came from, in the source's own terms: a file path and a
 * byte offset, a Kafka topic, partition and offset, a PostgreSQL slot and
 * LSN. `offset` is the position to resume AFTER this record (the next byte,
 * the next Kafka offset): committing it means "everything before is done".
 * Offsets grow within one (stream, partition).
 */
typedef struct rdapsync_position {
    const char *stream; /* NULL if the source has one stream */
    int32_t partition;  /* -1 if the source has no partitions */
    int64_t offset;
} rdapsync_position;

/*
 * The version of a change, compared on a total order: event_time_ms, then
 * origin (bytewise, NULL sorts as ""), then sequence. Version-guarded sinks
 * apply a change only if its version is greater than the stored one.
 */
typedef struct rdapsync_version {
    int64_t event_time_ms;
    const char *origin;
    int64_t sequence;
} rdapsync_version;

/*
 * ABI 1.4: a version vector, the causal history of a change in a
 * multi-region deployment: for each region, how many of that region's
 * writes the change has seen (its own included). One entry per region:
 * `region` is non-empty UTF-8 without NUL, `counter` >= 1; entries are
 * sorted by region bytewise (strcmp as unsigned bytes) and regions are
 * unique. A region not listed counts as 0.
 */
typedef struct rdapsync_vv_entry {
    const char *region;
    uint64_t counter;
} rdapsync_vv_entry;

/*
 * `count` 0 (entries NULL) means "no vector": the record is ordered by its
 * version alone, as before ABI 1.4. Records set their vector only through
 * host->record_set_vv(), which checks the rules above and copies into the
 * batch's memory.
 */
typedef struct rdapsync_vv {
    const rdapsync_vv_entry *entries;
    size_t count;
} rdapsync_vv;

typedef struct rdapsync_header {
    const char *name;  /* NUL-terminated */
    const char *value; /* value_len bytes, NUL-terminated as a convenience */
    size_t value_len;
} rdapsync_header;

typedef struct rdapsync_record {
    const char *key; /* key_len bytes, NUL-terminated; NULL if none */
    size_t key_len;
    rdapsync_op op;
    rdapsync_value *value; /* the document; NULL for deletes and bad input */
    rdapsync_version version;
    rdapsync_position position;
    const rdapsync_header *headers;
    size_t header_count;
    /* Bytes as read, kept only for records the source could not parse
     * (value NULL, op UPSERT) so that the dead-letter sink gets them. */
    const char *raw;
    size_t raw_len;
    /* Why the record is bad (source parse errors, dead-letter reason);
     * NULL for good records. */
    const char *error;
    /* ---- ABI 1.4 ----
     * The record's version vector (see rdapsync_vv); count 0 = none. A
     * plugin built for ABI 1.3 never reads it, and the host only appends
     * fields here, so records stay compatible. */
    rdapsync_vv vv;
} rdapsync_record;

/* A bounded, host-owned sequence of records; opaque (see host.h). */
typedef struct rdapsync_batch rdapsync_batch;

#endif
