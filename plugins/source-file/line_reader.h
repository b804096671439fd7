/*
 * A buffered reader that hands out newline-terminated records without
 * copying them: one big read() fills the buffer, lines are slices of it.
 * Lines longer than the limit are skipped up to their newline (only a short
 * prefix is kept for the dead-letter record), so memory stays bounded by
 * the limit whatever the input holds.
 */
#ifndef SOURCE_FILE_LINE_READER_H
#define SOURCE_FILE_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of an oversized line kept for the dead-letter record. */
#define LINE_READER_OVERSIZE_PREFIX 4096u

typedef struct line_reader {
    int fd;               /* owned; -1 when closed */
    char *buf;            /* owned */
    size_t cap;           /* bytes allocated */
    size_t start;         /* first unread byte */
    size_t end;           /* one past the last valid byte */
    size_t scanned;       /* bytes after start already searched for '\n' */
    int64_t base;         /* file offset of buf[0] */
    size_t max_line;      /* longest line handed out whole */
    size_t chunk;         /* bytes asked of each read() */
    bool eof;             /* the last read() returned 0 */
    uint64_t bytes_read;  /* since the last reader_take_bytes_read() */
    /* Oversized line being skipped: its prefix and total length so far. */
    bool skipping;
    char *prefix;         /* owned; LINE_READER_OVERSIZE_PREFIX bytes */
    size_t prefix_len;
    uint64_t skipped_len;
} line_reader;

typedef enum line_result {
    LINE_OK = 0,       /* line and len: a record (newline stripped); next_offset: after it */
    LINE_OVERSIZE = 1, /* line and len: the kept prefix; full_len: the real length */
    LINE_PARTIAL = 2,  /* no complete line yet (follow mode: wait for more) */
    LINE_EOF = 3,      /* nothing left */
    LINE_IO_ERROR = 4  /* errno is set */
} line_result;

/* Sets up an empty, closed reader. No allocation until reader_open(). */
void reader_init(line_reader *reader, size_t max_line, size_t chunk);
/* Opens `path` and positions it at `offset`. -1 with errno on failure. */
int reader_open(line_reader *reader, const char *path, int64_t offset);
/* Closes the file and drops buffered bytes; the buffer is kept for reuse. */
void reader_close(line_reader *reader);
/* Frees everything. */
void reader_free(line_reader *reader);

/*
 * Next line. `final` says the file will not grow (bounded mode): a last
 * line without a newline is then a record instead of LINE_PARTIAL. The
 * returned bytes are borrowed until the next call.
 */
line_result reader_next_line(line_reader *reader, bool final, const char **line, size_t *len,
                             int64_t *next_offset, uint64_t *full_len);

/* Reads the whole rest of the file, at most `limit` bytes. LINE_OK with the
 * bytes, LINE_OVERSIZE (prefix kept, *full_len the size) or LINE_IO_ERROR. */
line_result reader_whole(line_reader *reader, size_t limit, const char **bytes, size_t *len,
                         int64_t *next_offset, uint64_t *full_len);

/* Counts the newlines between the current offset and `offset`, moving the
 * reader there. Used only to recover line numbers after a resume. */
int reader_count_lines_to(line_reader *reader, int64_t offset, int64_t *lines);

/* Returns and resets the byte count read from the file. */
uint64_t reader_take_bytes_read(line_reader *reader);

#endif
