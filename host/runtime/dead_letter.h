/*
 * Dead letters: the copy of a record that could not be processed, labelled
 * with why and where, on its way to the pipeline's dead-letter sink. The
 * copy keeps key, op, value, version, position, headers and raw bytes, gets
 * `error` set to the reason and these headers appended:
 *
 *   rdapsync.error.reason     the reason (the plugin's err text)
 *   rdapsync.error.pipeline   pipeline name
 *   rdapsync.error.plugin     the plugin that refused it
 *   rdapsync.error.stage      source | transform | sink
 *   rdapsync.error.stream     position stream ("" when the source has one)
 *   rdapsync.error.partition  position partition (decimal, -1 if none)
 *   rdapsync.error.offset     position offset (decimal)
 */
#ifndef RDAPSYNC_HOST_DEAD_LETTER_H
#define RDAPSYNC_HOST_DEAD_LETTER_H

#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "base/metrics.h"

#define DEAD_LETTER_HEADER_REASON "rdapsync.error.reason"
#define DEAD_LETTER_HEADER_PIPELINE "rdapsync.error.pipeline"
#define DEAD_LETTER_HEADER_PLUGIN "rdapsync.error.plugin"
#define DEAD_LETTER_HEADER_STAGE "rdapsync.error.stage"
#define DEAD_LETTER_HEADER_STREAM "rdapsync.error.stream"
#define DEAD_LETTER_HEADER_PARTITION "rdapsync.error.partition"
#define DEAD_LETTER_HEADER_OFFSET "rdapsync.error.offset"

typedef struct dead_letter_info {
    const char *reason;
    const char *pipeline;
    const char *plugin;
    error_stage stage;
} dead_letter_info;

/* Appends the labelled copy of `record` to `batch`; returns it, or NULL if
 * the batch is full or memory ran out (then nothing was appended). */
rdapsync_record *dead_letter_add(rdapsync_batch *batch, const rdapsync_record *record, const dead_letter_info *info);

/* "key K at stream S partition P offset O" (parts that are unset left
 * out), for error messages that must name the record. */
void dead_letter_describe(const rdapsync_record *record, char *out, size_t size);

#endif
