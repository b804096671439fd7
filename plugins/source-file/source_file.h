/*
 * The `file` source: JSON lines or one JSON document per file, from one
 * file or a directory, bounded (END at the end) or following appends.
 * Internal to the plugin; nothing here is exported from the .so.
 */
#ifndef SOURCE_FILE_H
#define SOURCE_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "line_reader.h"
#include "origin_skip.h" /* skip_origins, shared with the kafka source */
#include "rfc3339.h"     /* rfc3339_to_ms(), shared with the rdap source */

/* The services table, saved by the entry function. */
extern const rdapsync_host *source_file_host;

/* Regions a version vector may name: far above any deployment, and a
 * bound on the stack array an envelope's "vv" is read into. */
#define SOURCE_FILE_MAX_REGIONS 64

enum source_format { FORMAT_AUTO = 0, FORMAT_JSONL = 1, FORMAT_JSON = 2 };

/* Filled by the host from the option table in source_file.c. */
typedef struct source_config {
    char *path;
    int format;
    bool follow;
    char *key_field;
    int64_t max_record_size;
    rdapsync_string_list skip_origins;
} source_config;

typedef struct input_file {
    char *path;       /* owned: what open() gets */
    char *stream;     /* owned: the position's stream (path as configured [+ "/" name]) */
    bool document;    /* one JSON document per file */
    bool looked_up;   /* checkpoint consulted */
    bool line_known;  /* `line` is right for `offset` */
    int64_t offset;   /* after the last record handed over */
    int64_t line;     /* lines before `offset` */
    int64_t size;     /* size last seen by stat() */
    int64_t read_to;  /* following: bytes examined when the file last ran dry */
    bool consumed;    /* a document file already handed over (even an empty one) */
    bool resumed;     /* its start came from a checkpoint */
    /* Last committed (offset, line) pair, kept in the line-mark file. */
    bool has_mark;
    int64_t mark_offset;
    int64_t mark_line;
} input_file;

/* A mark read back from the line-mark file at open. */
typedef struct saved_mark {
    char *stream; /* owned */
    int64_t offset;
    int64_t line;
} saved_mark;

/* (offset, line) at the end of each poll, waiting for commit(). */
typedef struct pending_mark {
    size_t file;
    int64_t offset;
    int64_t line;
} pending_mark;

#define PENDING_MARKS 256
/* source_state.current when no file is open. */
#define NO_FILE SIZE_MAX

typedef struct source_state {
    rdapsync_ctx *ctx;
    const source_config *cfg;
    char *dir;               /* owned: the directory when path is one; NULL for a file */
    input_file *files;       /* owned, sorted by name */
    size_t file_count;
    size_t file_capacity;
    size_t current;          /* index of the file being read; NO_FILE when none (not
                              * file_count: a scan that adds files would make
                              * that index a real, unopened file) */
    size_t next_index;       /* bounded runs: where to look for the next file */
    line_reader reader;
    int task_index;
    int task_count;
    int inotify_fd;          /* -1 without inotify */
    bool awaiting;           /* following a path that does not exist yet */
    char *marks_path;        /* owned; NULL when the host gives no state directory */
    bool marks_dirty;
    saved_mark *saved;       /* owned, sorted by stream */
    size_t saved_count;
    pending_mark pending[PENDING_MARKS];
    size_t pending_head;     /* next slot to write */
    size_t pending_count;
    /* Progress of bounded runs. */
    uint64_t records;
    uint64_t bad_records;
    int64_t started_ms;
    int64_t last_progress_ms;
    uint64_t last_progress_records;
    bool end_logged;
    char last_error[512];
    /* The last record this poll added (NULL before the first): a skipped
     * record's position moves onto it (origin_skip.h). */
    rdapsync_record *last_added;
    uint64_t skipped;
    /* An envelope line with its "value" replaced by {} (record_decode.c),
     * reused from line to line. */
    char *shell;
    size_t shell_cap;
} source_state;

/* input_set.c: which files to read, in which order. */
int inputs_scan(source_state *s, char *err, size_t err_size);
/* Index of the next file with unread data at or after `from`, or file_count.
 * Looks the file's checkpoint up on first sight. */
size_t inputs_next_pending(source_state *s, size_t from);
/* Opens files[index] at its offset, recovering its line number. */
int inputs_open(source_state *s, size_t index, char *err, size_t err_size);
int64_t inputs_total_bytes(const source_state *s, int64_t *done);
void inputs_free(source_state *s);

/* record_decode.c: bytes -> one record appended to batch: 0; 1 when the
 * record's origin is in skip_origins (nothing appended, counted; the last
 * record this poll added takes its position); -1 only when the host could
 * not take the record (allocation). */
int decode_record(source_state *s, rdapsync_batch *batch, const input_file *file, const char *bytes, size_t len,
                  int64_t line, int64_t next_offset);
/* A record whose bytes could not be read as one: raw bytes and reason. */
int decode_bad(source_state *s, rdapsync_batch *batch, const input_file *file, const char *bytes, size_t len,
               int64_t line, int64_t next_offset, const char *why);

/* line_marks.c: committed (offset, line) pairs, so that a resumed read
 * knows its line numbers without re-reading the file. */
void marks_load(source_state *s);
/* The saved mark of `stream`, or NULL. */
const saved_mark *marks_find(const source_state *s, const char *stream);
void marks_free(source_state *s);
void marks_note_poll(source_state *s, size_t file);
void marks_commit(source_state *s, const rdapsync_position *positions, size_t count);


#endif
