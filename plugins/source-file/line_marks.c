/*
 * Line numbers survive a restart. A checkpoint holds a byte offset only, but
 * reasons ("FILE:LINE") and raw documents' sequence numbers need the line.
 * At each commit the source writes, per file, the (offset, line) pair it
 * handed over at the committed offset to "<task state dir>/source-file.lines".
 * On resume it counts newlines only between that pair and the checkpoint
 * (usually none); without the file it counts from the start. The file is a
 * hint, never the truth, so it is replaced atomically but not fsynced.
 */
#include "source_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_marks(const void *a, const void *b)
{
    return strcmp(((const saved_mark *)a)->stream, ((const saved_mark *)b)->stream);
}

void marks_load(source_state *s)
{
    FILE *in;
    char *line = NULL;
    size_t cap = 0, count = 0;
    ssize_t n;

    if (!s->marks_path || !(in = fopen(s->marks_path, "r")))
        return;
    while ((n = getline(&line, &cap, in)) > 0) {
        long long offset, number;
        int used = 0;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (sscanf(line, "%lld %lld %n", &offset, &number, &used) != 2 || used <= 0 || line[used] == '\0' ||
            offset < 0 || number < 0)
            continue;
        saved_mark *grown = realloc(s->saved, (count + 1) * sizeof(*grown));
        if (!grown)
            break;
        s->saved = grown;
        if (!(s->saved[count].stream = strdup(line + used)))
            break;
        s->saved[count].offset = offset;
        s->saved[count].line = number;
        count++;
    }
    free(line);
    fclose(in);
    s->saved_count = count;
    qsort(s->saved, count, sizeof(*s->saved), compare_marks);
}

const saved_mark *marks_find(const source_state *s, const char *stream)
{
    saved_mark key = {.stream = (char *)stream};
    if (!s->saved_count)
        return NULL;
    return bsearch(&key, s->saved, s->saved_count, sizeof(*s->saved), compare_marks);
}

void marks_free(source_state *s)
{
    for (size_t i = 0; i < s->saved_count; i++)
        free(s->saved[i].stream);
    free(s->saved);
    s->saved = NULL;
    s->saved_count = 0;
}

void marks_note_poll(source_state *s, size_t file)
{
    const input_file *f = &s->files[file];
    pending_mark *last = s->pending_count ? &s->pending[s->pending_count - 1] : NULL;

    if (f->document || (last && last->file == file && last->offset == f->offset))
        return;
    if (s->pending_count == PENDING_MARKS) {
        /* The host commits far more often than this fills; losing the oldest
         * only means counting a few more lines after a crash. */
        memmove(s->pending, s->pending + 1, (PENDING_MARKS - 1) * sizeof(*s->pending));
        s->pending_count--;
    }
    s->pending[s->pending_count++] = (pending_mark){file, f->offset, f->line};
}

static size_t file_by_stream(const source_state *s, const char *stream)
{
    if (!stream)
        return s->file_count;
    if (s->current != NO_FILE && strcmp(s->files[s->current].stream, stream) == 0)
        return s->current;
    for (size_t i = 0; i < s->file_count; i++)
        if (strcmp(s->files[i].stream, stream) == 0)
            return i;
    return s->file_count;
}

static void marks_store(source_state *s)
{
    size_t len = strlen(s->marks_path);
    char *tmp = malloc(len + 5);
    FILE *out;

    if (!tmp)
        return;
    memcpy(tmp, s->marks_path, len);
    memcpy(tmp + len, ".tmp", 5);
    if ((out = fopen(tmp, "w")) != NULL) {
        for (size_t i = 0; i < s->file_count; i++) {
            const input_file *f = &s->files[i];
            if (f->has_mark && !strchr(f->stream, '\n'))
                fprintf(out, "%" PRId64 " %" PRId64 " %s\n", f->mark_offset, f->mark_line, f->stream);
        }
        if (fclose(out) == 0 && rename(tmp, s->marks_path) == 0)
            s->marks_dirty = false;
    }
    free(tmp);
}

void marks_commit(source_state *s, const rdapsync_position *positions, size_t count)
{
    for (size_t p = 0; p < count; p++) {
        size_t file = file_by_stream(s, positions[p].stream);
        const pending_mark *best = NULL;
        size_t kept = 0;

        if (file == s->file_count)
            continue;
        for (size_t i = 0; i < s->pending_count; i++) {
            const pending_mark *m = &s->pending[i];
            if (m->file == file && m->offset <= positions[p].offset && (!best || m->offset > best->offset))
                best = m;
        }
        if (best) {
            input_file *f = &s->files[file];
            f->has_mark = true;
            f->mark_offset = best->offset;
            f->mark_line = best->line;
            s->marks_dirty = true;
        }
        for (size_t i = 0; i < s->pending_count; i++) {
            const pending_mark *m = &s->pending[i];
            if (!(m->file == file && m->offset <= positions[p].offset))
                s->pending[kept++] = *m;
        }
        s->pending_count = kept;
    }
    if (s->marks_dirty && s->marks_path)
        marks_store(s);
}
