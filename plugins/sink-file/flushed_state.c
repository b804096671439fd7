/*
 * What the output file durably holds, in "<path>.flushed":
 *   {"length":N,"positions":[{"stream":S,"partition":P,"offset":O},...]}
 * `length` is the file's size at the last successful flush; each position
 * is the highest source position among the records written up to then.
 * Replaced atomically (write the temporary file, fdatasync, rename), so it
 * always describes a flushed prefix of the file. The directory is not
 * fsynced: if a power loss undoes the rename, the previous sidecar is just
 * as true (an older flushed prefix), open() cuts back to it and overrides
 * the host's checkpoint with its older positions, so the source replays
 * what was cut.
 */
#include "sink_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define H sink_file_host
#define J (sink_file_host->json)

static bool same_stream(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

position_entry *positions_find(position_map *map, const char *stream, int32_t partition)
{
    if (map->last_hit < map->count) {
        position_entry *e = &map->items[map->last_hit];
        if (e->partition == partition && same_stream(e->stream, stream))
            return e;
    }
    for (size_t i = 0; i < map->count; i++) {
        position_entry *e = &map->items[i];
        if (e->partition == partition && same_stream(e->stream, stream)) {
            map->last_hit = i;
            return e;
        }
    }
    return NULL;
}

int positions_raise(position_map *map, const char *stream, int32_t partition, int64_t offset)
{
    position_entry *e = positions_find(map, stream, partition);

    if (e) {
        if (offset > e->offset)
            e->offset = offset;
        return 0;
    }
    if (map->count == map->cap) {
        size_t cap = map->cap ? map->cap * 2 : 8;
        position_entry *grown = realloc(map->items, cap * sizeof(*grown));
        if (!grown)
            return -1;
        map->items = grown;
        map->cap = cap;
    }
    char *copy = stream ? strdup(stream) : NULL;
    if (stream && !copy)
        return -1;
    map->items[map->count] = (position_entry){copy, partition, offset};
    map->last_hit = map->count++;
    return 0;
}

void positions_free(position_map *map)
{
    for (size_t i = 0; i < map->count; i++)
        free(map->items[i].stream);
    free(map->items);
    memset(map, 0, sizeof(*map));
}

static char *read_small_file(const char *path, size_t *len)
{
    FILE *in = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!in)
        return NULL;
    if (fseek(in, 0, SEEK_END) == 0 && (size = ftell(in)) >= 0 && fseek(in, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL) {
        *len = fread(text, 1, (size_t)size, in);
        text[*len] = '\0';
    }
    fclose(in);
    return text;
}

int flushed_load(sink_state *s, int64_t *length, position_map *positions, char *err, size_t err_size)
{
    size_t len = 0;
    char perr[256];
    char *text = read_small_file(s->flushed_path, &len);
    rdapsync_value *doc;
    int rc = -1;

    if (!text) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "%s: %s", s->flushed_path, strerror(errno));
        return -1;
    }
    doc = J->parse(text, len, perr, sizeof(perr));
    free(text);
    if (!doc) {
        snprintf(err, err_size, "%s: %s", s->flushed_path, perr);
        return -1;
    }
    const rdapsync_value *list = J->object_get(doc, "positions");
    if (J->type(J->object_get(doc, "length")) != RDAPSYNC_JSON_INTEGER || J->type(list) != RDAPSYNC_JSON_ARRAY) {
        snprintf(err, err_size, "%s: no \"length\" or \"positions\"", s->flushed_path);
        goto out;
    }
    *length = J->integer_value(J->object_get(doc, "length"));
    for (size_t i = 0; i < J->array_size(list); i++) {
        const rdapsync_value *p = J->array_get(list, i);
        const rdapsync_value *stream = J->object_get(p, "stream");
        if (J->type(J->object_get(p, "offset")) != RDAPSYNC_JSON_INTEGER ||
            (stream && J->type(stream) != RDAPSYNC_JSON_STRING && J->type(stream) != RDAPSYNC_JSON_NULL)) {
            snprintf(err, err_size, "%s: positions[%zu] is malformed", s->flushed_path, i);
            goto out;
        }
        if (positions_raise(positions, J->string_value(stream),
                            (int32_t)J->integer_value(J->object_get(p, "partition")),
                            J->integer_value(J->object_get(p, "offset"))) != 0) {
            snprintf(err, err_size, "out of memory");
            goto out;
        }
    }
    rc = 1;
out:
    J->decref(doc);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int flushed_store(sink_state *s, char *err, size_t err_size)
{
    out_buffer text = {0};
    int fd = -1, rc = -1;

    if (out_append(&text, "{\"length\":", 10) || out_int64(&text, s->file_len) ||
        out_append(&text, ",\"positions\":[", 14))
        goto oom;
    for (size_t i = 0; i < s->written.count; i++) {
        const position_entry *e = &s->written.items[i];
        if ((i && out_append(&text, ",", 1)) || out_append(&text, "{\"stream\":", 10) ||
            (e->stream ? out_json_string(&text, e->stream, strlen(e->stream)) : out_append(&text, "null", 4)) ||
            out_append(&text, ",\"partition\":", 13) || out_int64(&text, e->partition) ||
            out_append(&text, ",\"offset\":", 10) || out_int64(&text, e->offset) || out_append(&text, "}", 1))
            goto oom;
    }
    if (out_append(&text, "]}\n", 3))
        goto oom;
    fd = open(s->flushed_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, text.data, text.len) != 0 || (s->cfg->fsync && fdatasync(fd) != 0)) {
        snprintf(err, err_size, "%s: %s", s->flushed_tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, err_size, "%s: close: %s", s->flushed_tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(s->flushed_tmp, s->flushed_path) != 0) {
        snprintf(err, err_size, "%s: rename: %s", s->flushed_path, strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, err_size, "out of memory");
out:
    if (fd >= 0)
        close(fd);
    free(text.data);
    return rc;
}
