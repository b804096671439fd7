/*
 * subject_find, subject_erase and retention_purge (plugin.h, ABI 1.5) over
 * the sink's file, which is also how dead letters written by a file sink
 * are reached. Each line is one record: a bare document, or an envelope
 * whose "value" is the document and whose "raw" (dead letters) holds the
 * bytes that could not be read. A concerned document is rewritten in its
 * line or its line dropped; a concerned raw payload drops its line (the
 * bytes are not a document a policy could redact).
 *
 * The file is rewritten whole, atomically: the kept and rewritten lines go
 * to "<path>.erase.tmp", which is synced, renamed over the file, and its
 * directory synced; the sidecar then gets the new length. The instance's
 * exclusive lock (flock) keeps a running pipeline from appending meanwhile;
 * the new file is locked before it replaces the old one. A crash between
 * the rename and the sidecar leaves a file shorter than its sidecar says:
 * open() then ignores the sidecar (replays may be appended again), and
 * calling the erasure again finishes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <rdapsync/sinktk.h>

#include "sink_file.h"

#define H sink_file_host
#define J sink_file_host->json

/* One line, parsed. */
typedef struct line_doc {
    rdapsync_value *root;      /* owned */
    rdapsync_value *doc;       /* borrowed from root: the document, or NULL (delete, null value) */
    const char *key;           /* borrowed: an envelope's key, or NULL */
    size_t key_len;
    const char *raw;           /* borrowed: a dead letter's unreadable bytes as text, or NULL */
    size_t raw_len;
} line_doc;

/* 0, or -1 when the line is not JSON. */
static int line_parse(const char *line, size_t len, line_doc *out)
{
    char why[256];
    memset(out, 0, sizeof(*out));
    if (!(out->root = J->parse(line, len, why, sizeof(why))))
        return -1;
    rdapsync_value *r = out->root;
    bool envelope = J->type(r) == RDAPSYNC_JSON_OBJECT && J->object_get(r, "op") && J->object_get(r, "version");
    if (!envelope) {
        out->doc = r;
        return 0;
    }
    rdapsync_value *value = J->object_get(r, "value"), *key = J->object_get(r, "key"), *raw = J->object_get(r, "raw");
    out->doc = J->type(value) == RDAPSYNC_JSON_OBJECT ? value : NULL;
    if (J->type(key) == RDAPSYNC_JSON_STRING) {
        out->key = J->string_value(key);
        out->key_len = J->string_length(key);
    }
    const char *encoding = J->string_value(J->object_get(r, "raw_encoding"));
    if (J->type(raw) == RDAPSYNC_JSON_STRING && encoding && strcmp(encoding, "utf8") == 0) {
        out->raw = J->string_value(raw);
        out->raw_len = J->string_length(raw);
    }
    return 0;
}

static bool contains_nocase(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n && i + n <= len; i++)
        if (strncasecmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

/* Whether a dead letter's raw bytes concern the subject: as a document
 * when they are JSON, else by the needle (phones have none: not found). */
static bool raw_concerns(const rdapsync_sinktk_subject *subject, const line_doc *d)
{
    if (!d->raw)
        return false;
    int yes = rdapsync_sinktk_subject_match_text(H, subject, d->raw, d->raw_len);
    return yes > 0 || (yes < 0 && subject->needle && contains_nocase(d->raw, d->raw_len, subject->needle));
}

typedef int (*line_fn)(void *opaque, const char *line, size_t len, char *err, size_t err_size);

/* Calls fn for each line of the flushed file (without its newline). */
static rdapsync_status each_line(sink_state *s, line_fn fn, void *opaque, char *err, size_t err_size)
{
    FILE *in = fopen(s->path, "rb");
    if (!in) {
        snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
        return RDAPSYNC_ERROR;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t at = 0;
    rdapsync_status status = RDAPSYNC_OK;
    while (status == RDAPSYNC_OK && at < s->file_len && (n = getline(&line, &cap, in)) > 0) {
        at += n;
        size_t len = (size_t)n - (line[n - 1] == '\n');
        if (len && fn(opaque, line, len, err, err_size) != 0)
            status = RDAPSYNC_ERROR;
    }
    if (status == RDAPSYNC_OK && ferror(in)) {
        snprintf(err, err_size, "%s: read: %s", s->path, strerror(errno));
        status = RDAPSYNC_ERROR;
    }
    free(line);
    fclose(in);
    return status;
}

/* ---- find ---- */

typedef struct find_ctx {
    sink_state *s;
    const rdapsync_sinktk_subject *subject;
    rdapsync_subject_found_fn fn;
    void *arg;
} find_ctx;

static int find_line(void *opaque, const char *line, size_t len, char *err, size_t err_size)
{
    find_ctx *f = opaque;
    line_doc d;
    if (line_parse(line, len, &d) != 0) {
        snprintf(err, err_size, "%s: a line is not JSON", f->s->path);
        return -1;
    }
    int rc = 0;
    char *text = NULL;
    size_t text_len = 0;
    if (rdapsync_sinktk_subject_match(H, f->subject, d.doc)) {
        text = J->dump(d.doc, 0, &text_len);
        rc = text ? 0 : -1;
    } else if (raw_concerns(f->subject, &d)) {
        text = NULL;
        rc = f->fn(f->arg, &(rdapsync_subject_hit){f->s->path, d.key, d.key_len, d.raw, d.raw_len});
        goto out;
    } else {
        goto out;
    }
    if (rc == 0)
        rc = f->fn(f->arg, &(rdapsync_subject_hit){f->s->path, d.key, d.key_len, text, text_len});
out:
    H->free(text);
    J->decref(d.root);
    if (rc != 0)
        snprintf(err, err_size, "stopped by the caller");
    return rc;
}

rdapsync_status file_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                  char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    find_ctx f = {state, &subject, fn, arg};
    status = each_line(state, find_line, &f, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

/* ---- erase / purge ---- */

typedef struct scrub_ctx {
    sink_state *s;
    const rdapsync_sinktk_scrub *scrub;
    FILE *out;
    int64_t out_len;
    uint64_t changed;
} scrub_ctx;

static int put(scrub_ctx *c, const char *bytes, size_t len)
{
    if (fwrite(bytes, 1, len, c->out) != len || fputc('\n', c->out) == EOF)
        return -1;
    c->out_len += (int64_t)len + 1;
    return 0;
}

static int scrub_line(void *opaque, const char *line, size_t len, char *err, size_t err_size)
{
    scrub_ctx *c = opaque;
    line_doc d;
    if (line_parse(line, len, &d) != 0) {
        snprintf(err, err_size, "%s: a line is not JSON", c->s->path);
        return -1;
    }
    int rc = -1, verdict = RDAPSYNC_SINKTK_KEEP;
    char *doc_text = NULL, *next = NULL, *line_text = NULL;
    size_t doc_len = 0, next_len = 0, line_len = 0;
    if (c->scrub->subject && raw_concerns(c->scrub->subject, &d)) {
        verdict = RDAPSYNC_SINKTK_DELETE;
    } else if (d.doc) {
        if (d.doc == d.root) {
            verdict = rdapsync_sinktk_scrub_text(c->scrub, line, len, &next, &next_len, err, err_size);
        } else if ((doc_text = J->dump(d.doc, 0, &doc_len))) {
            verdict = rdapsync_sinktk_scrub_text(c->scrub, doc_text, doc_len, &next, &next_len, err, err_size);
        } else {
            snprintf(err, err_size, "out of memory");
            goto out;
        }
    }
    if (verdict < 0)
        goto out;
    if (verdict == RDAPSYNC_SINKTK_KEEP) {
        rc = put(c, line, len);
    } else if (verdict == RDAPSYNC_SINKTK_DELETE) {
        rc = 0;
    } else if (d.doc == d.root) {
        rc = put(c, next, next_len);
    } else {
        /* The envelope keeps its key, version and position around the
         * rewritten document. */
        char why[256];
        rdapsync_value *value = J->parse(next, next_len, why, sizeof(why));
        if (value && J->object_set(d.root, "value", value) == 0 && (line_text = J->dump(d.root, 0, &line_len)))
            rc = put(c, line_text, line_len);
    }
    if (rc != 0 && !err[0])
        snprintf(err, err_size, "%s.erase.tmp: %s", c->s->path, strerror(errno));
    if (verdict != RDAPSYNC_SINKTK_KEEP)
        c->changed++;
out:
    H->free(doc_text);
    H->free(next);
    H->free(line_text);
    J->decref(d.root);
    return rc;
}

/* The rewritten file replaces the old one; the instance now appends to
 * it (fd and lock swapped) and the sidecar names its length. */
static rdapsync_status replace_file(sink_state *s, const char *tmp, int tmp_fd, int64_t len, char *err,
                                    size_t err_size)
{
    if (fsync(tmp_fd) != 0 || flock(tmp_fd, LOCK_EX | LOCK_NB) != 0 || rename(tmp, s->path) != 0) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        return RDAPSYNC_ERROR;
    }
    if (s->dir_fd >= 0)
        (void)fsync(s->dir_fd);
    close(s->fd);
    s->fd = tmp_fd;
    s->file_len = s->flushed_len = s->last_write_start = len;
    return flushed_store(s, err, err_size) == 0 ? RDAPSYNC_OK : RDAPSYNC_ERROR;
}

static rdapsync_status scrub_file(sink_state *s, const rdapsync_sinktk_scrub *scrub, uint64_t *changed, char *err,
                                  size_t err_size)
{
    *changed = 0;
    size_t tmp_size = strlen(s->path) + sizeof(".erase.tmp");
    char *tmp = malloc(tmp_size);
    if (!tmp) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    snprintf(tmp, tmp_size, "%s.erase.tmp", s->path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int dup_fd = fd >= 0 ? dup(fd) : -1;
    scrub_ctx c = {.s = s, .scrub = scrub, .out = dup_fd >= 0 ? fdopen(dup_fd, "wb") : NULL};
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!c.out) {
        snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
        if (dup_fd >= 0)
            close(dup_fd);
    } else {
        err[0] = '\0';
        status = each_line(s, scrub_line, &c, err, err_size);
        if (fclose(c.out) != 0 && status == RDAPSYNC_OK) {
            snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
            status = RDAPSYNC_ERROR;
        }
    }
    if (status == RDAPSYNC_OK && c.changed > 0 && (status = replace_file(s, tmp, fd, c.out_len, err, err_size)) ==
                                                      RDAPSYNC_OK) {
        *changed = c.changed;
        fd = -1; /* the instance's now */
    } else {
        unlink(tmp);
    }
    if (fd >= 0)
        close(fd);
    free(tmp);
    return status;
}

rdapsync_status file_subject_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn,
                                   void *arg, uint64_t *changed, char *err, size_t err_size)
{
    rdapsync_sinktk_subject subject;
    *changed = 0;
    rdapsync_status status = rdapsync_sinktk_subject_prepare(&subject, s, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    rdapsync_sinktk_scrub scrub = {.host = H, .subject = &subject, .fn = fn, .arg = arg};
    status = scrub_file(state, &scrub, changed, err, err_size);
    rdapsync_sinktk_subject_free(&subject);
    return status;
}

rdapsync_status file_retention_purge(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                     uint64_t *purged, char *err, size_t err_size)
{
    rdapsync_sinktk_scrub scrub = {.host = H, .now_ms = now_ms, .fn = anonymise, .arg = arg};
    return scrub_file(state, &scrub, purged, err, err_size);
}
