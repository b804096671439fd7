/*
 * The set of input files: one file, or a directory's *.json and *.jsonl
 * files in name order (files found later while following are read in the
 * order they appear). With several tasks each directory file belongs to
 * one task, chosen by a hash of its name so that the choice never moves.
 */
#include "source_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define H source_file_host

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool inputs_known(const source_state *s, const char *path)
{
    for (size_t i = 0; i < s->file_count; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return true;
    return false;
}

/* Takes ownership of path and stream (freed here on failure). */
static int inputs_add(source_state *s, char *path, char *stream, int64_t size)
{
    if (!path || !stream)
        goto fail;
    if (s->file_count == s->file_capacity) {
        size_t cap = s->file_capacity ? s->file_capacity * 2 : 16;
        input_file *grown = realloc(s->files, cap * sizeof(*grown));
        if (!grown)
            goto fail;
        s->files = grown;
        s->file_capacity = cap;
    }
    input_file *f = &s->files[s->file_count++];
    memset(f, 0, sizeof(*f));
    f->path = path;
    f->stream = stream;
    f->size = size;
    f->document = s->cfg->format == FORMAT_JSON || (s->cfg->format == FORMAT_AUTO && ends_with(path, ".json"));
    return 0;
fail:
    free(path);
    free(stream);
    return -1;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    bool slash = n > 0 && dir[n - 1] == '/';
    char *out = malloc(n + strlen(name) + 2);
    if (out)
        sprintf(out, "%s%s%s", dir, slash ? "" : "/", name);
    return out;
}

static int inputs_scan_dir(source_state *s, char *err, size_t err_size)
{
    DIR *d = opendir(s->dir);
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *entry;
    int rc = -1;

    if (!d) {
        snprintf(err, err_size, "%s: %s", s->dir, strerror(errno));
        return -1;
    }
    while ((entry = readdir(d)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' || !(ends_with(name, ".json") || ends_with(name, ".jsonl")))
            continue;
        if (s->task_count > 1 && (int)(name_hash(name) % (uint32_t)s->task_count) != s->task_index)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof(*grown));
            if (!grown)
                goto out;
            names = grown;
        }
        if (!(names[count] = strdup(name)))
            goto out;
        count++;
    }
    if (count > 1) /* names is NULL when the directory is empty */
        qsort(names, count, sizeof(*names), compare_names);
    for (size_t i = 0; i < count; i++) {
        char *path = join(s->dir, names[i]);
        struct stat st;
        if (!path)
            goto out;
        if (inputs_known(s, path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (inputs_add(s, path, strdup(path), st.st_size) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        snprintf(err, err_size, "%s: out of memory listing the directory", s->dir);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int inputs_scan(source_state *s, char *err, size_t err_size)
{
    struct stat st;

    if (s->dir)
        return inputs_scan_dir(s, err, err_size);
    if (s->file_count > 0 || s->task_index != 0)
        return 0; /* one file, read by the first task only */
    if (stat(s->cfg->path, &st) != 0) {
        snprintf(err, err_size, "%s: %s", s->cfg->path, strerror(errno));
        return -1;
    }
    if (inputs_add(s, strdup(s->cfg->path), strdup(s->cfg->path), st.st_size) != 0) {
        snprintf(err, err_size, "%s: out of memory", s->cfg->path);
        return -1;
    }
    return 0;
}

/* First sight of a file: where did an earlier run stop? */
static void inputs_look_up(source_state *s, input_file *f)
{
    int64_t offset = 0;
    bool committed = H->checkpoint_get(s->ctx, f->stream, -1, &offset);

    const saved_mark *mark = marks_find(s, f->stream);

    if (mark) {
        f->has_mark = true;
        f->mark_offset = mark->offset;
        f->mark_line = mark->line;
    }
    f->looked_up = true;
    f->line_known = true;
    if (!committed || offset < 0)
        return;
    f->resumed = true;
    f->offset = offset;
    /* A document file is done once committed, even an empty one (offset 0). */
    f->consumed = f->document;
    f->line_known = f->document || offset == 0;
}

static bool inputs_has_data(source_state *s, input_file *f, bool restat)
{
    struct stat st;

    if (!f->looked_up)
        inputs_look_up(s, f);
    if (restat && stat(f->path, &st) == 0)
        f->size = st.st_size;
    if (f->document)
        return !f->consumed;
    return f->size > f->offset && f->size > f->read_to;
}

size_t inputs_next_pending(source_state *s, size_t from)
{
    for (size_t i = from; i < s->file_count; i++)
        if (inputs_has_data(s, &s->files[i], s->cfg->follow))
            return i;
    return s->file_count;
}

int inputs_open(source_state *s, size_t index, char *err, size_t err_size)
{
    input_file *f = &s->files[index];
    int64_t from = 0, line = 0, counted = 0;

    if (!f->line_known) {
        if (f->has_mark && f->mark_offset <= f->offset) {
            from = f->mark_offset;
            line = f->mark_line;
        }
    } else {
        from = f->offset;
    }
    if (reader_open(&s->reader, f->path, from) != 0) {
        snprintf(err, err_size, "%s: %s", f->path, strerror(errno));
        return -1;
    }
    if (!f->line_known) {
        if (from < f->offset)
            H->log(s->ctx, RDAPSYNC_LOG_DEBUG, "%s: counting lines from byte %lld to the checkpoint at %lld",
                   f->stream, (long long)from, (long long)f->offset);
        if (reader_count_lines_to(&s->reader, f->offset, &counted) != 0) {
            snprintf(err, err_size, "%s: %s", f->path, strerror(errno));
            return -1;
        }
        int64_t reached = s->reader.base + (int64_t)s->reader.start;
        if (reached < f->offset) {
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s is shorter (%lld bytes) than its checkpoint (%lld): reading on "
                   "from its end", f->stream, (long long)reached, (long long)f->offset);
            f->offset = reached;
        }
        f->line = line + counted;
        f->line_known = true;
    }
    s->current = index;
    return 0;
}

int64_t inputs_total_bytes(const source_state *s, int64_t *done)
{
    int64_t total = 0, sum = 0;
    for (size_t i = 0; i < s->file_count; i++) {
        total += s->files[i].size;
        sum += s->files[i].offset < s->files[i].size ? s->files[i].offset : s->files[i].size;
    }
    *done = sum;
    return total;
}

void inputs_free(source_state *s)
{
    for (size_t i = 0; i < s->file_count; i++) {
        free(s->files[i].path);
        free(s->files[i].stream);
    }
    free(s->files);
    s->files = NULL;
    s->file_count = s->file_capacity = 0;
}
