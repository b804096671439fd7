/*
 * The `file` sink: one JSON line per record, appended; durable at flush.
 * Internal to the plugin; nothing here is exported from the .so.
 */
#ifndef SINK_FILE_H
#define SINK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

extern const rdapsync_host *sink_file_host;

enum sink_format { FORMAT_ENVELOPE = 0, FORMAT_VALUE = 1 };

/* Filled by the host from the option table in sink_file.c. */
typedef struct sink_config {
    char *path;
    int format;
    bool fsync;
} sink_config;

/* Bytes waiting to be written. */
typedef struct out_buffer {
    char *data; /* owned */
    size_t len;
    size_t cap;
} out_buffer;

/* The highest offset seen per (stream, partition). */
typedef struct position_entry {
    char *stream; /* owned; NULL for a single-stream source */
    int32_t partition;
    int64_t offset;
} position_entry;

typedef struct position_map {
    position_entry *items; /* owned */
    size_t count;
    size_t cap;
    size_t last_hit;
} position_map;

typedef struct sink_state {
    rdapsync_ctx *ctx;
    const sink_config *cfg;
    char *path;          /* owned: cfg->path with {task} replaced */
    char *flushed_path;  /* owned: "<path>.flushed" */
    char *flushed_tmp;   /* owned: "<path>.flushed.tmp" */
    int fd;
    int dir_fd;          /* the directory of path, fsynced at open */
    int64_t file_len;    /* bytes written to fd */
    int64_t flushed_len; /* bytes known durable */
    int64_t last_write_start; /* logical length before the last write(): what a failed flush undoes */
    out_buffer out;      /* bytes after file_len */
    position_map written; /* everything in the file, buffered bytes included */
    position_map floor;   /* what the file held at open: replayed records at or below are skipped */
    uint64_t records;
    uint64_t skipped;
} sink_state;

/* line_encode.c */
int out_reserve(out_buffer *out, size_t more);
int out_append(out_buffer *out, const void *bytes, size_t len);
int out_json_string(out_buffer *out, const char *bytes, size_t len);
int out_int64(out_buffer *out, int64_t v);
/* One line (with its newline) for `record` in the configured format. */
int encode_record(sink_state *s, const rdapsync_record *record);

/* flushed_state.c: the sidecar "<path>.flushed" and position maps. */
position_entry *positions_find(position_map *map, const char *stream, int32_t partition);
int positions_raise(position_map *map, const char *stream, int32_t partition, int64_t offset);
void positions_free(position_map *map);
/* Reads the sidecar: 1 found (length and positions set), 0 absent, -1 unreadable. */
int flushed_load(sink_state *s, int64_t *length, position_map *positions, char *err, size_t err_size);
/* Replaces the sidecar atomically with (file_len, written). 0 or -1 + err. */
int flushed_store(sink_state *s, char *err, size_t err_size);

/* file_subject.c: the ABI 1.5 calls, as in plugin.h. */
rdapsync_status file_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                  char *err, size_t err_size);
rdapsync_status file_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn,
                                   void *arg, uint64_t *changed, char *err, size_t err_size);
rdapsync_status file_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                     uint64_t *purged, char *err, size_t err_size);

#endif
