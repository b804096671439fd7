/*
 * Checkpoint files. The write protocol (temp, fsync, rename, fsync dir) is
 * what makes "committed" mean something after a power cut; see
 * docs/architecture.md.
 */
#include "base/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct checkpoint_map {
    rdapsync_position *items; /* stream strings owned */
    size_t count, capacity;
};

static atomic_bool crash_before_rename;

void checkpoint_test_crash_before_rename(bool enable) { atomic_store(&crash_before_rename, enable); }

checkpoint_map *checkpoint_map_new(void) { return calloc(1, sizeof(checkpoint_map)); }

void checkpoint_map_clear(checkpoint_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->count; i++)
        free((char *)map->items[i].stream);
    map->count = 0;
}

void checkpoint_map_free(checkpoint_map *map)
{
    if (!map)
        return;
    checkpoint_map_clear(map);
    free(map->items);
    free(map);
}

static bool same_stream(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static rdapsync_position *find(const checkpoint_map *map, const char *stream, int32_t partition)
{
    for (size_t i = 0; i < map->count; i++)
        if (map->items[i].partition == partition && same_stream(map->items[i].stream, stream))
            return &map->items[i];
    return NULL;
}

bool checkpoint_map_get(const checkpoint_map *map, const char *stream, int32_t partition, int64_t *offset)
{
    const rdapsync_position *p = map ? find(map, stream, partition) : NULL;
    if (!p)
        return false;
    if (offset)
        *offset = p->offset;
    return true;
}

int checkpoint_map_set(checkpoint_map *map, const char *stream, int32_t partition, int64_t offset)
{
    rdapsync_position *p = find(map, stream, partition);
    char *copy = NULL;

    if (p) {
        p->offset = offset;
        return 0;
    }
    if (map->count == map->capacity) {
        size_t capacity = map->capacity ? map->capacity * 2 : 8;
        rdapsync_position *grown = realloc(map->items, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        map->items = grown;
        map->capacity = capacity;
    }
    if (stream && !(copy = strdup(stream)))
        return -1;
    map->items[map->count].stream = copy;
    map->items[map->count].partition = partition;
    map->items[map->count].offset = offset;
    map->count++;
    return 0;
}

size_t checkpoint_map_count(const checkpoint_map *map) { return map ? map->count : 0; }
const rdapsync_position *checkpoint_map_positions(const checkpoint_map *map) { return map ? map->items : NULL; }

char *checkpoint_task_dir(const char *state_dir, const char *pipeline, int task_index)
{
    size_t size = strlen(state_dir) + strlen(pipeline) + 32;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%s/%s/task-%d", state_dir, pipeline, task_index);
    return out;
}

int checkpoint_mkdirs(const char *path)
{
    char *copy = strdup(path);
    int rc = 0;

    if (!copy)
        return -1;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            rc = -1;
            goto done;
        }
        *p = '/';
    }
    if (mkdir(copy, 0755) != 0 && errno != EEXIST)
        rc = -1;
done:
    free(copy);
    return rc;
}

static char *join(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *out = malloc(size);
    if (out)
        snprintf(out, size, "%s/%s", dir, name);
    return out;
}

int checkpoint_load(const char *dir, checkpoint_map *map, char *err, size_t err_size)
{
    char *path = join(dir, CHECKPOINT_FILE);
    json_error_t error;
    json_t *root = NULL, *positions;
    int rc = -1;

    checkpoint_map_clear(map);
    if (!path) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        rc = 0;
        goto done;
    }
    root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        snprintf(err, err_size, "checkpoint %s: line %d column %d: %s", path, error.line, error.column, error.text);
        goto done;
    }
    positions = json_object_get(root, "positions");
    if (json_integer_value(json_object_get(root, "version")) != 1 || !json_is_array(positions)) {
        snprintf(err, err_size, "checkpoint %s: not a version 1 checkpoint", path);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(positions); i++) {
        json_t *p = json_array_get(positions, i);
        json_t *stream = json_object_get(p, "stream");
        json_t *partition = json_object_get(p, "partition");
        json_t *offset = json_object_get(p, "offset");
        if (!json_is_object(p) || !(json_is_null(stream) || json_is_string(stream)) || !json_is_integer(partition) ||
            !json_is_integer(offset)) {
            snprintf(err, err_size, "checkpoint %s: positions[%zu] is malformed", path, i);
            checkpoint_map_clear(map);
            goto done;
        }
        if (checkpoint_map_set(map, json_string_value(stream), (int32_t)json_integer_value(partition),
                               (int64_t)json_integer_value(offset)) != 0) {
            snprintf(err, err_size, "out of memory");
            checkpoint_map_clear(map);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(root);
    free(path);
    return rc;
}

static char *serialize(const checkpoint_map *map)
{
    json_t *root = json_object(), *positions = json_array();
    char *text = NULL;

    if (!root || !positions)
        goto done;
    for (size_t i = 0; i < map->count; i++) {
        const rdapsync_position *p = &map->items[i];
        json_t *item = json_pack("{s:o?,s:i,s:I}", "stream", p->stream ? json_string(p->stream) : NULL,
                                 "partition", (int)p->partition, "offset", (json_int_t)p->offset);
        if (!item || json_array_append_new(positions, item) != 0)
            goto done;
    }
    if (json_object_set_new(root, "version", json_integer(1)) != 0 ||
        json_object_set(root, "positions", positions) != 0)
        goto done;
    text = json_dumps(root, JSON_COMPACT);
done:
    json_decref(positions);
    json_decref(root);
    return text;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int checkpoint_save(const char *dir, const checkpoint_map *map, char *err, size_t err_size)
{
    char *text = NULL, *temp = NULL, *path = NULL;
    int fd = -1, dir_fd = -1, rc = -1;

    if (checkpoint_mkdirs(dir) != 0) {
        snprintf(err, err_size, "checkpoint directory %s: %s", dir, strerror(errno));
        return -1;
    }
    text = serialize(map);
    temp = join(dir, CHECKPOINT_TEMP_FILE);
    path = join(dir, CHECKPOINT_FILE);
    if (!text || !temp || !path) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        snprintf(err, err_size, "checkpoint %s: %s", temp, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, err_size, "checkpoint %s: %s", temp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (atomic_load(&crash_before_rename)) {
        snprintf(err, err_size, "checkpoint %s: simulated crash before rename", path);
        goto done;
    }
    if (rename(temp, path) != 0) {
        snprintf(err, err_size, "checkpoint %s: rename: %s", path, strerror(errno));
        goto done;
    }
    /* The rename is durable only once the directory entry is. */
    dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || fsync(dir_fd) != 0) {
        snprintf(err, err_size, "checkpoint directory %s: fsync: %s", dir, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (dir_fd >= 0)
        close(dir_fd);
    if (fd >= 0)
        close(fd);
    free(text);
    free(temp);
    free(path);
    return rc;
}
