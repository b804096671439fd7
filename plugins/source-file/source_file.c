/*
 * The `file` source plugin: descriptor, options and the poll loop.
 * See docs/plugins/source-file.md.
 */
#include "source_file.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define H source_file_host

const rdapsync_host *source_file_host;

#define READ_CHUNK (1024u * 1024u)
#define PROGRESS_EVERY_MS 5000

static const char *const format_names[] = {"auto", "jsonl", "json", NULL};

static const rdapsync_option source_options[] = {
    {"path", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, offsetof(source_config, path),
     "a file, or a directory whose *.json and *.jsonl files are read in name order"},
    {"format", RDAPSYNC_OPT_ENUM, 0, "auto", 0, 0, format_names, offsetof(source_config, format),
     "auto: *.json files hold one JSON document each, other files JSON lines; jsonl or json for every file"},
    {"follow", RDAPSYNC_OPT_BOOL, 0, "false", 0, 0, NULL, offsetof(source_config, follow),
     "false: end at the end of the input; true: keep reading appended data and new files"},
    {"key_field", RDAPSYNC_OPT_STRING, 0, NULL, 0, 0, NULL, offsetof(source_config, key_field),
     "member of the document that holds the key (default: envelope key, else handle, else ldhName)"},
    {"max_record_size", RDAPSYNC_OPT_SIZE, 0, "16M", 1024, INT64_C(1) << 30, NULL,
     offsetof(source_config, max_record_size), "longer lines or documents become bad records"},
    ORIGIN_SKIP_OPTION(source_config, skip_origins),
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Watching the directory sees appends to its files and new files alike;
 * while the path is awaited, its parent sees it appear. */
static void watch_inputs(source_state *s)
{
    char *dir = s->dir ? strdup(s->dir) : dir_of(s->cfg->path);

    if (s->inotify_fd >= 0)
        close(s->inotify_fd);
    s->inotify_fd = dir ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    if (s->inotify_fd >= 0 &&
        inotify_add_watch(s->inotify_fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0) {
        /* A missing parent of an awaited path is part of the wait, said
         * once already; anything else is worth its own line. */
        if (!(s->awaiting && errno == ENOENT))
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "inotify on %s: %s; looking for new data at every poll", dir,
                   strerror(errno));
        close(s->inotify_fd);
        s->inotify_fd = -1;
    }
    free(dir);
}

/* Where the input is now: its directory (if it is one) and its files. */
static int inputs_take_path(source_state *s, const struct stat *st, char *err, size_t err_size)
{
    if (S_ISDIR(st->st_mode) && !(s->dir = strdup(s->cfg->path))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return inputs_scan(s, err, err_size);
}

/* Following a path that did not exist: 1 once it does (and is set up),
 * 0 while it still does not, -1 on an error. */
static int await_input(source_state *s, char *err, size_t err_size)
{
    struct stat st;

    if (stat(s->cfg->path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "path %s: %s", s->cfg->path, strerror(errno));
        return -1;
    }
    s->awaiting = false;
    if (inputs_take_path(s, &st, err, err_size) != 0)
        return -1;
    s->current = NO_FILE;
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "%s appeared: reading it", s->cfg->path);
    if (!s->dir && s->task_index != 0)
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "one input file: task 0 reads it, this task stays idle");
    /* A directory is watched itself; a file through its parent, which
     * may have appeared only now. */
    watch_inputs(s);
    return 1;
}

static void source_close(void *state)
{
    source_state *s = state;

    if (!s)
        return;
    reader_free(&s->reader);
    inputs_free(s);
    marks_free(s);
    if (s->inotify_fd >= 0)
        close(s->inotify_fd);
    free(s->dir);
    free(s->marks_path);
    free(s->shell);
    free(s);
}

static rdapsync_status source_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                   size_t err_size)
{
    const source_config *cfg = config;
    source_state *s = calloc(1, sizeof(*s));
    struct stat st;
    const char *state_dir = H->state_dir(ctx);

    if (!s) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = cfg;
    s->inotify_fd = -1;
    s->task_index = H->task_index(ctx);
    s->task_count = H->task_count(ctx);
    reader_init(&s->reader, (size_t)cfg->max_record_size, READ_CHUNK);
    if (stat(cfg->path, &st) != 0) {
        /* A bounded run of a missing input can only fail, now or after any
         * number of restarts: ERROR, which the host does not restart. A
         * following run waits for the input, as `tail -F` does. */
        int failure = errno;
        if (failure != ENOENT) {
            snprintf(err, err_size, "path %s: %s", cfg->path, strerror(failure));
            goto fail;
        }
        if (!cfg->follow) {
            snprintf(err, err_size, "path %s does not exist; with follow: false there is nothing to read (set "
                     "follow: true to wait for it to appear)", cfg->path);
            goto fail;
        }
        s->awaiting = true;
    }
    if (state_dir && (s->marks_path = malloc(strlen(state_dir) + sizeof("/source-file.lines"))) != NULL)
        sprintf(s->marks_path, "%s/source-file.lines", state_dir);
    marks_load(s);
    if (!s->awaiting && inputs_take_path(s, &st, err, err_size) != 0)
        goto fail;
    s->current = NO_FILE;
    if (cfg->follow)
        watch_inputs(s);
    s->started_ms = s->last_progress_ms = now_ms();
    if (s->awaiting) {
        H->log(ctx, RDAPSYNC_LOG_INFO, "path %s does not exist yet (follow: true): waiting for it to appear",
               cfg->path);
    } else if (!cfg->follow) {
        int64_t done, total = inputs_total_bytes(s, &done);
        H->log(ctx, RDAPSYNC_LOG_INFO, "reading %zu file(s), %.1f MiB, from %s", s->file_count,
               (double)total / 1048576.0, cfg->path);
    } else if (!s->dir && s->task_index != 0) {
        H->log(ctx, RDAPSYNC_LOG_INFO, "one input file: task 0 reads it, this task stays idle");
    }
    *state = s;
    return RDAPSYNC_OK;
fail:
    source_close(s);
    return RDAPSYNC_ERROR;
}

static bool is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* One document file as one record. 1 added, -1 error. */
static int read_document(source_state *s, rdapsync_batch *batch, input_file *f, char *err, size_t err_size)
{
    const char *bytes;
    size_t len;
    int64_t next;
    uint64_t full;
    int rc;

    switch (reader_whole(&s->reader, (size_t)s->cfg->max_record_size, &bytes, &len, &next, &full)) {
    case LINE_OK:
        rc = decode_record(s, batch, f, bytes, len, 1, next);
        if (rc == 1)
            rc = 0; /* skipped by origin: the file is consumed all the same */
        break;
    case LINE_OVERSIZE: {
        char why[200];
        snprintf(why, sizeof(why), "document of %" PRIu64 " bytes is longer than max_record_size %" PRId64
                 " (raw kept: first %zu bytes)", full, s->cfg->max_record_size, len);
        rc = decode_bad(s, batch, f, bytes, len, 1, next, why);
        break;
    }
    default:
        snprintf(err, err_size, "%s: read: %s", f->stream, strerror(errno));
        return -1;
    }
    f->consumed = true;
    f->offset = next;
    f->line = 1;
    if (rc != 0)
        snprintf(err, err_size, "%s: out of memory", f->stream);
    return rc == 0 ? 1 : -1;
}

/* Next record of the current file: 1 added, 0 nothing more for now, -1 error. */
static int read_one(source_state *s, rdapsync_batch *batch, char *err, size_t err_size)
{
    input_file *f = &s->files[s->current];
    const char *line;
    size_t len;
    int64_t next;
    uint64_t full;

    if (f->document)
        return f->consumed ? 0 : read_document(s, batch, f, err, err_size);
    for (;;) {
        int64_t start = f->offset;
        int rc;
        switch (reader_next_line(&s->reader, !s->cfg->follow, &line, &len, &next, &full)) {
        case LINE_EOF:
        case LINE_PARTIAL:
            f->read_to = s->reader.base + (int64_t)s->reader.end;
            return 0;
        case LINE_IO_ERROR:
            snprintf(err, err_size, "%s: read: %s", f->stream, strerror(errno));
            return -1;
        case LINE_OVERSIZE: {
            char why[200];
            f->line++;
            f->offset = next;
            snprintf(why, sizeof(why), "line of %" PRIu64 " bytes is longer than max_record_size %" PRId64
                     " (raw kept: first %zu bytes)", full, s->cfg->max_record_size, len);
            rc = decode_bad(s, batch, f, line, len, f->line, next, why);
            break;
        }
        case LINE_OK:
            f->line++;
            f->offset = next;
            if (start == 0 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
                line += 3; /* a UTF-8 byte order mark */
                len -= 3;
            }
            if (is_blank(line, len))
                continue;
            rc = decode_record(s, batch, f, line, len, f->line, next);
            if (rc == 1)
                continue; /* skipped by origin: read on */
            break;
        default:
            return 0;
        }
        if (rc != 0)
            snprintf(err, err_size, "%s:%" PRId64 ": out of memory", f->stream, f->line);
        return rc == 0 ? 1 : -1;
    }
}

static void leave_current(source_state *s)
{
    reader_close(&s->reader);
    s->current = NO_FILE;
}

/* Fills the batch from the files; returns the records added or -1. */
static long fill_batch(source_state *s, rdapsync_batch *batch, char *err, size_t err_size)
{
    long added = 0;

    while (H->batch_room(batch) > 0) {
        if (s->current == NO_FILE) {
            size_t next = inputs_next_pending(s, s->cfg->follow ? 0 : s->next_index);
            if (next == s->file_count)
                break;
            if (inputs_open(s, next, err, err_size) != 0)
                return -1;
        }
        int rc = read_one(s, batch, err, err_size);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            added++;
            continue;
        }
        marks_note_poll(s, s->current);
        if (!s->cfg->follow) {
            s->next_index = s->current + 1;
            leave_current(s);
            continue;
        }
        /* Following: move on only if another file has news; a partial last
         * line is dropped from the buffer and read again when we return. */
        size_t other = inputs_next_pending(s, 0);
        if (other == s->file_count || other == s->current)
            break;
        leave_current(s);
    }
    if (added > 0 && s->current != NO_FILE)
        marks_note_poll(s, s->current);
    return added;
}

/* Following and idle: wait for a change, at most timeout_ms. */
static void wait_for_news(source_state *s, int timeout_ms)
{
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct pollfd pfd = {.fd = s->inotify_fd, .events = POLLIN};

    if (timeout_ms <= 0)
        return;
    if (s->inotify_fd < 0) {
        (void)poll(NULL, 0, timeout_ms);
        return;
    }
    if (poll(&pfd, 1, timeout_ms) > 0)
        while (read(s->inotify_fd, events, sizeof(events)) > 0) {
        }
}

/* A bounded run that found nothing after its checkpoint: "end of input: 0
 * records" reads like an empty input, so say where it resumed and how to
 * read everything again. False when no file was resumed. */
static bool log_nothing_new(source_state *s)
{
    const input_file *last = NULL;
    size_t resumed = 0;
    for (size_t i = 0; i < s->file_count; i++)
        if (s->files[i].resumed) {
            last = &s->files[i];
            resumed++;
        }
    if (!last)
        return false;
    const char *state_dir = H->state_dir(s->ctx);
    char checkpoint[1024], what[1024], line[64] = "";
    if (state_dir)
        snprintf(checkpoint, sizeof(checkpoint), " %s/checkpoint.json", state_dir);
    else
        checkpoint[0] = '\0';
    if (!last->document && last->has_mark && last->mark_offset == last->offset)
        snprintf(line, sizeof(line), " (line %" PRId64 ")", last->mark_line);
    if (resumed == 1)
        snprintf(what, sizeof(what), "nothing new since %s byte %" PRId64 "%s", last->stream, last->offset, line);
    else
        snprintf(what, sizeof(what), "nothing new in the %zu files of %s since their checkpointed positions",
                 resumed, s->cfg->path);
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "resumed from checkpoint%s: %s; to start over, remove %s", checkpoint, what,
           state_dir ? state_dir : "the task's state directory");
    return true;
}

static void log_progress(source_state *s, bool final)
{
    int64_t now = now_ms(), done, total = inputs_total_bytes(s, &done);
    double seconds = (double)(now - s->started_ms) / 1000.0;
    double window = (double)(now - s->last_progress_ms) / 1000.0;

    if (final) {
        if (s->records == 0 && log_nothing_new(s))
            return;
        H->log(s->ctx, RDAPSYNC_LOG_INFO,
               "end of input: %" PRIu64 " records (%" PRIu64 " bad), %.1f MiB in %.1f s", s->records,
               s->bad_records, (double)total / 1048576.0, seconds);
        return;
    }
    H->log(s->ctx, RDAPSYNC_LOG_INFO, "progress: %" PRIu64 " records, %.1f of %.1f MiB (%.0f%%), %.0f records/s",
           s->records, (double)done / 1048576.0, (double)total / 1048576.0,
           total > 0 ? 100.0 * (double)done / (double)total : 100.0,
           window > 0 ? (double)(s->records - s->last_progress_records) / window : 0.0);
    s->last_progress_ms = now;
    s->last_progress_records = s->records;
}

static rdapsync_status source_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    source_state *s = state;

    if (s->awaiting) {
        int found = await_input(s, err, err_size);
        if (found == 0 && !H->stopping(s->ctx)) {
            wait_for_news(s, timeout_ms);
            found = await_input(s, err, err_size);
        }
        if (found < 0)
            return RDAPSYNC_ERROR;
        if (found == 0)
            return RDAPSYNC_OK;
    }
    s->last_added = NULL;
    long added = fill_batch(s, batch, err, err_size);

    if (added == 0 && s->cfg->follow && !H->stopping(s->ctx)) {
        wait_for_news(s, timeout_ms);
        if (s->dir && inputs_scan(s, err, err_size) != 0)
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s", err);
        added = fill_batch(s, batch, err, err_size);
    }
    uint64_t bytes = reader_take_bytes_read(&s->reader);
    if (bytes)
        H->counter_add(s->ctx, "bytes_read", bytes);
    if (!s->cfg->follow) {
        /* The host's progress lines and /status read these (docs/operations.md). */
        int64_t done, total = inputs_total_bytes(s, &done);
        H->gauge_set(s->ctx, "input_bytes_total", (double)total);
        H->gauge_set(s->ctx, "input_bytes_done", (double)done);
    }
    if (added < 0)
        return RDAPSYNC_ERROR;
    s->records += (uint64_t)added;
    if (!s->cfg->follow) {
        if (added == 0) {
            if (!s->end_logged)
                log_progress(s, true);
            s->end_logged = true;
            return RDAPSYNC_END;
        }
        if (now_ms() - s->last_progress_ms >= PROGRESS_EVERY_MS)
            log_progress(s, false);
    }
    return RDAPSYNC_OK;
}

static rdapsync_status source_commit(void *state, const rdapsync_position *positions, size_t count, char *err,
                                     size_t err_size)
{
    marks_commit(state, positions, count);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin source_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "file",
    .kind = RDAPSYNC_KIND_SOURCE,
    .version = "0.1.0",
    .description = "RDAP JSON documents or JSON lines from a file or a directory, bounded or followed",
    .options = source_options,
    .config_size = sizeof(source_config),
    .open = source_open,
    .close = source_close,
    .poll = source_poll,
    .commit = source_commit,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    source_file_host = host;
    return &source_descriptor;
}
