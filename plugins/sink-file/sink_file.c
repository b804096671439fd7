/*
 * The `file` sink plugin: descriptor, options, open / write / flush / close.
 *
 * Exactly once across crashes (docs/plugins/sink-file.md):
 *  - flush() writes, fsyncs, then records the flushed length and the highest
 *    source position per (stream, partition) in "<path>.flushed";
 *  - open() truncates the file to that length (a torn or unflushed tail is
 *    gone) and hands the positions to the host (checkpoint_override), so the
 *    source resumes right after what the file holds even when the host's own
 *    checkpoint is older (a crash between this flush and the checkpoint);
 *  - records replayed anyway (a checkpoint that went back, another sink's
 *    override, a lost state directory) at or below those positions are
 *    skipped by write(): they are in the file already.
 */
#include "sink_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define H sink_file_host

const rdapsync_host *sink_file_host;

/* Buffered bytes beyond this are written out during write(). */
#define DRAIN_AT (1024u * 1024u)

static const char *const format_names[] = {"envelope", "value", NULL};

static const rdapsync_option sink_options[] = {
    {"path", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, offsetof(sink_config, path),
     "output file (its directory is created); \"{task}\" becomes the task index, required with tasks > 1"},
    {"format", RDAPSYNC_OPT_ENUM, 0, "envelope", 0, 0, format_names, offsetof(sink_config, format),
     "envelope: key, op, version, position, headers, value per line; value: the document only"},
    {"fsync", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, offsetof(sink_config, fsync),
     "fsync at every flush (false: faster, but a power loss may lose or tear flushed lines)"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

static char *with_suffix(const char *path, const char *suffix)
{
    char *out = malloc(strlen(path) + strlen(suffix) + 1);
    if (out)
        sprintf(out, "%s%s", path, suffix);
    return out;
}

/* cfg->path with every "{task}" replaced by the task index. */
static char *expand_path(const char *path, int task_index)
{
    char index[16];
    size_t n = 0;
    int len = snprintf(index, sizeof(index), "%d", task_index);

    for (const char *p = path; (p = strstr(p, "{task}")) != NULL; p += 6)
        n++;
    char *out = malloc(strlen(path) + n * (size_t)len + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = path; *p;) {
        if (strncmp(p, "{task}", 6) == 0) {
            memcpy(o, index, (size_t)len);
            o += len;
            p += 6;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

static int make_dirs(const char *dir)
{
    char *copy = strdup(dir);
    int rc = 0;

    if (!copy)
        return -1;
    for (char *p = copy + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    if (rc == 0 && mkdir(copy, 0755) != 0 && errno != EEXIST)
        rc = -1;
    free(copy);
    return rc;
}

/* Without a usable sidecar: keep whole lines only (a crash may have torn
 * the last one). Returns the new length or -1. */
static int64_t cut_torn_line(int fd, int64_t size)
{
    char buf[4096];
    int64_t end = size;

    while (end > 0) {
        size_t n = end < (int64_t)sizeof(buf) ? (size_t)end : sizeof(buf);
        ssize_t got = pread(fd, buf, n, end - (int64_t)n);
        if (got != (ssize_t)n)
            return -1;
        for (size_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n')
                return end - (int64_t)n + (int64_t)i;
        end -= (int64_t)n;
    }
    return 0;
}

static void sink_close(void *state)
{
    sink_state *s = state;

    if (!s)
        return;
    if (s->fd >= 0) {
        /* Unflushed bytes are not part of the output; open() would cut
         * them anyway, this keeps readers of a stopped pipeline honest. */
        if (s->file_len != s->flushed_len && ftruncate(s->fd, s->flushed_len) != 0)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: truncate at close: %s", s->path, strerror(errno));
        close(s->fd);
    }
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    if (s->records || s->skipped)
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "%s: %" PRIu64 " records written, %" PRIu64 " replayed ones skipped",
               s->path, s->records, s->skipped);
    positions_free(&s->written);
    positions_free(&s->floor);
    free(s->out.data);
    free(s->path);
    free(s->flushed_path);
    free(s->flushed_tmp);
    free(s);
}

/* Brings the file back to what was flushed and tells the host where the
 * source stands. 0 or -1 + err. */
static int recover(sink_state *s, char *err, size_t err_size)
{
    struct stat st;
    int64_t length = 0;
    char why[512] = "";
    int found;

    if (fstat(s->fd, &st) != 0) {
        snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
        return -1;
    }
    found = flushed_load(s, &length, &s->floor, why, sizeof(why));
    if (found > 0 && st.st_size < length) {
        snprintf(why, sizeof(why), "the file (%lld bytes) is shorter than its flushed length %lld: changed outside "
                 "rdapsync", (long long)st.st_size, (long long)length);
        found = -1;
    }
    if (found < 0) {
        H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: ignoring %s (%s): replays after the last checkpoint may be written "
               "twice", s->path, s->flushed_path, why);
        positions_free(&s->floor);
    }
    if (found <= 0 && (length = cut_torn_line(s->fd, st.st_size)) < 0) {
        snprintf(err, err_size, "%s: read: %s", s->path, strerror(errno));
        return -1;
    }
    if (st.st_size > length) {
        if (ftruncate(s->fd, length) != 0 || (s->cfg->fsync && fsync(s->fd) != 0)) {
            snprintf(err, err_size, "%s: truncate: %s", s->path, strerror(errno));
            return -1;
        }
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "%s: dropped %lld bytes written after the last flush", s->path,
               (long long)(st.st_size - length));
    }
    s->file_len = s->flushed_len = s->last_write_start = length;
    for (size_t i = 0; i < s->floor.count; i++) {
        const position_entry *e = &s->floor.items[i];
        if (positions_raise(&s->written, e->stream, e->partition, e->offset) != 0) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        H->checkpoint_override(s->ctx, e->stream, e->partition, e->offset);
    }
    return 0;
}

static rdapsync_status sink_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const sink_config *cfg = config;
    sink_state *s = calloc(1, sizeof(*s));
    char *dir = NULL;

    if (!s)
        goto oom;
    s->ctx = ctx;
    s->cfg = cfg;
    s->fd = s->dir_fd = -1;
    if (H->task_count(ctx) > 1 && !strstr(cfg->path, "{task}")) {
        snprintf(err, err_size, "path %s: with %d tasks the path needs \"{task}\" (one file per task)", cfg->path,
                 H->task_count(ctx));
        goto fail;
    }
    if (!(s->path = expand_path(cfg->path, H->task_index(ctx))) ||
        !(s->flushed_path = with_suffix(s->path, ".flushed")) ||
        !(s->flushed_tmp = with_suffix(s->path, ".flushed.tmp")) || !(dir = dir_of(s->path)))
        goto oom;
    if (make_dirs(dir) != 0) {
        snprintf(err, err_size, "directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
        goto fail;
    }
    if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_size, "%s: %s", s->path,
                 errno == EWOULDBLOCK ? "in use by another rdapsync process or pipeline" : strerror(errno));
        goto fail;
    }
    if (recover(s, err, err_size) != 0)
        goto fail;
    /* Once per open, so that the file's own directory entry is durable
     * before any sidecar names a length for it. */
    if (cfg->fsync && s->dir_fd >= 0)
        (void)fsync(s->dir_fd);
    free(dir);
    *state = s;
    return RDAPSYNC_OK;
oom:
    snprintf(err, err_size, "out of memory");
fail:
    free(dir);
    sink_close(s);
    return RDAPSYNC_ERROR;
}

/* Writes the buffer at file_len. On failure the file is cut back to
 * file_len, the buffer kept, and -1 returned with errno set. */
static int drain(sink_state *s)
{
    size_t done = 0;

    while (done < s->out.len) {
        ssize_t n = pwrite(s->fd, s->out.data + done, s->out.len - done, s->file_len + (int64_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            if (done > 0 && ftruncate(s->fd, s->file_len) != 0)
                saved = errno;
            errno = saved;
            return -1;
        }
        done += (size_t)n;
    }
    s->file_len += (int64_t)s->out.len;
    s->out.len = 0;
    return 0;
}

/* Takes back everything after logical length `mark` (file + buffer). */
static int undo_to(sink_state *s, int64_t mark)
{
    if (s->file_len <= mark) {
        s->out.len = (size_t)(mark - s->file_len);
        return 0;
    }
    s->out.len = 0;
    if (ftruncate(s->fd, mark) != 0)
        return -1;
    s->file_len = mark;
    return 0;
}

static bool replayed(sink_state *s, const rdapsync_record *r)
{
    if (s->floor.count == 0)
        return false;
    const position_entry *e = positions_find(&s->floor, r->position.stream, r->position.partition);
    return e && r->position.offset <= e->offset;
}

static rdapsync_status sink_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    sink_state *s = state;
    size_t count = H->batch_count(batch);
    int64_t mark = s->file_len + (int64_t)s->out.len;
    uint64_t skipped = 0;

    s->last_write_start = mark;
    for (size_t i = 0; i < count; i++) {
        const rdapsync_record *r = H->batch_get(batch, i);
        if (replayed(s, r)) {
            skipped++;
            continue;
        }
        if (encode_record(s, r) != 0) {
            (void)undo_to(s, mark);
            snprintf(err, err_size, "out of memory encoding the record at offset %" PRId64, r->position.offset);
            return RDAPSYNC_RETRY;
        }
        if (s->out.len >= DRAIN_AT && drain(s) != 0) {
            snprintf(err, err_size, "%s: write: %s", s->path, strerror(errno));
            return undo_to(s, mark) == 0 ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
        }
    }
    /* Positions only once the whole batch is in: a RETRY leaves them alone. */
    for (size_t i = 0; i < count; i++) {
        const rdapsync_record *r = H->batch_get(batch, i);
        if (positions_raise(&s->written, r->position.stream, r->position.partition, r->position.offset) != 0) {
            (void)undo_to(s, mark);
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_RETRY;
        }
    }
    s->records += count - skipped;
    s->skipped += skipped;
    if (skipped)
        H->counter_add(s->ctx, "replayed_skipped", skipped);
    return RDAPSYNC_OK;
}

static rdapsync_status sink_flush(void *state, char *err, size_t err_size)
{
    sink_state *s = state;
    uint64_t bytes = (uint64_t)(s->file_len - s->flushed_len) + s->out.len;

    if (drain(s) != 0) {
        snprintf(err, err_size, "%s: write: %s", s->path, strerror(errno));
        return undo_to(s, s->last_write_start) == 0 ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
    }
    if (s->file_len == s->flushed_len)
        return RDAPSYNC_OK;
    /* After a failed fsync the kernel may have dropped the dirty pages:
     * nothing here can tell what reached the disk. Failing the task makes
     * open() cut the file back to the last flushed length. */
    if (s->cfg->fsync && fdatasync(s->fd) != 0) {
        snprintf(err, err_size, "%s: fsync: %s", s->path, strerror(errno));
        return RDAPSYNC_ERROR;
    }
    if (flushed_store(s, err, err_size) != 0) {
        s->flushed_len = s->file_len; /* the sidecar may or may not say so: close() must not cut */
        return RDAPSYNC_ERROR;
    }
    s->flushed_len = s->file_len;
    H->counter_add(s->ctx, "bytes_written", bytes);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin sink_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "file",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0.1.0",
    .description = "JSON lines (envelopes or bare documents) appended to a file, exactly once across crashes",
    .options = sink_options,
    .config_size = sizeof(sink_config),
    .open = sink_open,
    .close = sink_close,
    .write = sink_write,
    .flush = sink_flush,
    .subject_find = file_subject_find,
    .subject_erase = file_subject_erase,
    .retention_purge = file_retention_purge,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    sink_file_host = host;
    return &sink_descriptor;
}
