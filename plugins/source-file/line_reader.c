/*
 * Buffered line reader (see line_reader.h). Lines are slices of one buffer
 * that grows only when a single line does not fit, up to the record limit.
 */
#include "line_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void reader_init(line_reader *reader, size_t max_line, size_t chunk)
{
    memset(reader, 0, sizeof(*reader));
    reader->fd = -1;
    reader->max_line = max_line;
    reader->chunk = chunk;
}

static void reader_reset_buffer(line_reader *reader, int64_t offset)
{
    reader->start = reader->end = reader->scanned = 0;
    reader->base = offset;
    reader->eof = false;
    reader->skipping = false;
    reader->prefix_len = 0;
    reader->skipped_len = 0;
}

int reader_open(line_reader *reader, const char *path, int64_t offset)
{
    int fd;

    reader_close(reader);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    reader->fd = fd;
    reader_reset_buffer(reader, offset);
    return 0;
}

void reader_close(line_reader *reader)
{
    if (reader->fd >= 0)
        close(reader->fd);
    reader->fd = -1;
    reader_reset_buffer(reader, 0);
    /* A long line or a big document grew the buffer: give it back rather
     * than keep up to max_record_size for the rest of the run. */
    if (reader->cap > 2 * reader->chunk) {
        free(reader->buf);
        reader->buf = NULL;
        reader->cap = 0;
    }
}

void reader_free(line_reader *reader)
{
    reader_close(reader);
    free(reader->buf);
    free(reader->prefix);
    reader->buf = NULL;
    reader->prefix = NULL;
    reader->cap = 0;
}

uint64_t reader_take_bytes_read(line_reader *reader)
{
    uint64_t n = reader->bytes_read;
    reader->bytes_read = 0;
    return n;
}

/* Makes room for one chunk after `end`: slides the unread bytes to the
 * front, and grows the buffer when a line is longer than what it holds. */
static int reader_make_room(line_reader *reader)
{
    size_t unread = reader->end - reader->start;

    if (reader->cap - reader->end >= reader->chunk)
        return 0;
    if (reader->start > 0) {
        memmove(reader->buf, reader->buf + reader->start, unread);
        reader->base += (int64_t)reader->start;
        reader->start = 0;
        reader->end = unread;
    }
    if (reader->cap - reader->end >= reader->chunk)
        return 0;
    size_t want = reader->cap ? reader->cap * 2 : reader->chunk;
    if (want < reader->end + reader->chunk)
        want = reader->end + reader->chunk;
    char *grown = realloc(reader->buf, want);
    if (!grown)
        return -1;
    reader->buf = grown;
    reader->cap = want;
    return 0;
}

/* One read(); returns the bytes added, 0 at end of file, -1 on error. */
static ssize_t reader_fill(line_reader *reader)
{
    ssize_t n;

    if (reader_make_room(reader) != 0)
        return -1;
    do {
        n = read(reader->fd, reader->buf + reader->end, reader->cap - reader->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    reader->eof = n == 0;
    reader->end += (size_t)n;
    reader->bytes_read += (uint64_t)n;
    return n;
}

/* Drops every buffered byte (they belong to a line being skipped). */
static void reader_discard_buffered(line_reader *reader)
{
    reader->base += (int64_t)reader->end;
    reader->start = reader->end = reader->scanned = 0;
}

static void reader_begin_skip(line_reader *reader)
{
    size_t unread = reader->end - reader->start;
    size_t keep = unread < LINE_READER_OVERSIZE_PREFIX ? unread : LINE_READER_OVERSIZE_PREFIX;

    if (!reader->prefix)
        reader->prefix = malloc(LINE_READER_OVERSIZE_PREFIX);
    reader->prefix_len = reader->prefix ? keep : 0;
    if (reader->prefix)
        memcpy(reader->prefix, reader->buf + reader->start, keep);
    reader->skipped_len = unread;
    reader->skipping = true;
    reader_discard_buffered(reader);
}

static line_result reader_end_skip(line_reader *reader, const char **line, size_t *len, int64_t *next_offset,
                                   uint64_t *full_len)
{
    reader->skipping = false;
    *line = reader->prefix;
    *len = reader->prefix_len;
    *full_len = reader->skipped_len;
    *next_offset = reader->base + (int64_t)reader->start;
    return LINE_OVERSIZE;
}

line_result reader_next_line(line_reader *reader, bool final, const char **line, size_t *len,
                             int64_t *next_offset, uint64_t *full_len)
{
    for (;;) {
        size_t unread = reader->end - reader->start;
        char *from = reader->buf + reader->start + reader->scanned;
        char *newline = unread > reader->scanned ? memchr(from, '\n', unread - reader->scanned) : NULL;

        if (reader->skipping) {
            if (newline) {
                reader->skipped_len += (uint64_t)(newline - (reader->buf + reader->start));
                reader->start = (size_t)(newline + 1 - reader->buf);
                reader->scanned = 0;
                return reader_end_skip(reader, line, len, next_offset, full_len);
            }
            reader->skipped_len += unread;
            reader_discard_buffered(reader);
        } else if (newline) {
            *line = reader->buf + reader->start;
            *len = (size_t)(newline - *line);
            reader->start = (size_t)(newline + 1 - reader->buf);
            reader->scanned = 0;
            *next_offset = reader->base + (int64_t)reader->start;
            if (*len <= reader->max_line)
                return LINE_OK;
            /* Too long, though it happened to fit in the buffer. */
            *full_len = *len;
            if (*len > LINE_READER_OVERSIZE_PREFIX)
                *len = LINE_READER_OVERSIZE_PREFIX;
            return LINE_OVERSIZE;
        } else if (unread > reader->max_line) {
            reader_begin_skip(reader);
            continue;
        } else {
            reader->scanned = unread;
        }

        ssize_t added = reader_fill(reader);
        if (added < 0)
            return LINE_IO_ERROR;
        if (added > 0)
            continue;
        /* End of the file as it is now. */
        if (reader->skipping)
            return final ? reader_end_skip(reader, line, len, next_offset, full_len) : LINE_PARTIAL;
        unread = reader->end - reader->start;
        if (unread == 0)
            return LINE_EOF;
        if (!final)
            return LINE_PARTIAL;
        *line = reader->buf + reader->start;
        *len = unread;
        reader->start = reader->end;
        reader->scanned = 0;
        *next_offset = reader->base + (int64_t)reader->end;
        return LINE_OK;
    }
}

line_result reader_whole(line_reader *reader, size_t limit, const char **bytes, size_t *len,
                         int64_t *next_offset, uint64_t *full_len)
{
    struct stat st;
    int64_t offset = reader->base + (int64_t)reader->start;

    if (fstat(reader->fd, &st) != 0)
        return LINE_IO_ERROR;
    uint64_t remaining = st.st_size > offset ? (uint64_t)(st.st_size - offset) : 0;
    size_t want = remaining > limit ? LINE_READER_OVERSIZE_PREFIX : (size_t)remaining;

    /* Reading exactly `want` bytes: a file that grows meanwhile is not
     * read past the size seen here. */
    while (reader->end - reader->start < want) {
        ssize_t added = reader_fill(reader);
        if (added < 0)
            return LINE_IO_ERROR;
        if (added == 0)
            break;
    }
    size_t have = reader->end - reader->start;
    if (have > want)
        have = want;
    *bytes = reader->buf + reader->start;
    *len = have;
    *full_len = remaining;
    if (remaining > limit) {
        *next_offset = st.st_size;
        reader_discard_buffered(reader);
        reader->base = st.st_size;
        if (lseek(reader->fd, st.st_size, SEEK_SET) < 0)
            return LINE_IO_ERROR;
        return LINE_OVERSIZE;
    }
    reader->start += have;
    *next_offset = reader->base + (int64_t)reader->start;
    return LINE_OK;
}

int reader_count_lines_to(line_reader *reader, int64_t offset, int64_t *lines)
{
    int64_t count = 0;

    while (reader->base + (int64_t)reader->start < offset) {
        if (reader->start == reader->end) {
            ssize_t added = reader_fill(reader);
            if (added < 0)
                return -1;
            if (added == 0)
                break;
        }
        size_t want = reader->end - reader->start;
        int64_t gap = offset - (reader->base + (int64_t)reader->start);
        if ((int64_t)want > gap)
            want = (size_t)gap;
        const char *p = reader->buf + reader->start, *stop = p + want;
        while ((p = memchr(p, '\n', (size_t)(stop - p))) != NULL) {
            count++;
            p++;
        }
        reader->start += want;
    }
    reader->scanned = 0;
    *lines = count;
    return 0;
}
