/* The configuration of a dead-letter replay (dlq_replay.h). */
#include "cli/dlq_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/json_api.h"

#define HEADER_PIPELINE "rdapsync.error.pipeline"
#define REPLAY_SUFFIX ".dlq-replay"

/* ---- small tree surgery (nodes made here are owned like parsed ones) ---- */

static ynode *scalar_node(const char *text, int line, int column)
{
    ynode *n = calloc(1, sizeof(*n));
    if (!n || !(n->scalar = strdup(text))) {
        free(n);
        return NULL;
    }
    n->kind = YNODE_SCALAR;
    n->quoted = 1;
    n->line = line;
    n->column = column;
    return n;
}

static ynode *mapping_node(int line, int column)
{
    ynode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = YNODE_MAPPING;
    n->line = line;
    n->column = column;
    return n;
}

static ynode *copy_node(const ynode *from)
{
    ynode *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->kind = from->kind;
    n->line = from->line;
    n->column = from->column;
    n->quoted = from->quoted;
    if (from->scalar && !(n->scalar = strdup(from->scalar)))
        goto fail;
    if (from->count) {
        n->items = calloc(from->count, sizeof(*n->items));
        if (!n->items || (from->keys && !(n->keys = calloc(from->count, sizeof(*n->keys)))))
            goto fail;
        for (size_t i = 0; i < from->count; i++, n->count++)
            if (!(n->items[i] = copy_node(from->items[i])) || (from->keys && !(n->keys[i] = copy_node(from->keys[i]))))
                goto fail_child;
    }
    return n;
fail_child:
    n->count++; /* the half-made child is freed with the rest */
fail:
    ynode_free(n);
    return NULL;
}

/* Sets key -> value in a mapping (replacing and freeing an old value); takes value. */
static int map_set(ynode *map, const char *key, ynode *value)
{
    if (!value)
        return -1;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0) {
            ynode_free(map->items[i]);
            map->items[i] = value;
            return 0;
        }
    ynode *k = scalar_node(key, value->line, value->column);
    ynode **items = realloc(map->items, (map->count + 1) * sizeof(*items));
    if (items)
        map->items = items;
    ynode **keys = items ? realloc(map->keys, (map->count + 1) * sizeof(*keys)) : NULL;
    if (keys)
        map->keys = keys;
    if (!k || !items || !keys) {
        ynode_free(k);
        ynode_free(value);
        return -1;
    }
    map->keys[map->count] = k;
    map->items[map->count++] = value;
    return 0;
}

static void map_del(ynode *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0) {
            ynode_free(map->items[i]);
            ynode_free(map->keys[i]);
            memmove(&map->items[i], &map->items[i + 1], (map->count - i - 1) * sizeof(*map->items));
            memmove(&map->keys[i], &map->keys[i + 1], (map->count - i - 1) * sizeof(*map->keys));
            map->count--;
            return;
        }
}

/* { plugin: NAME, config: { KEY: VALUE } } with VALUE taken. */
static ynode *block_node(const char *plugin, const char *key, ynode *value, int line, int column)
{
    ynode *block = mapping_node(line, column), *config = mapping_node(line, column);
    if (!block || !config || map_set(block, "plugin", scalar_node(plugin, line, column)) != 0 ||
        map_set(config, key, value) != 0) {
        ynode_free(block);
        ynode_free(config);
        return NULL;
    }
    if (map_set(block, "config", config) != 0) {
        ynode_free(block);
        return NULL;
    }
    return block;
}

/* ---- the pipeline the dead letters came from ---- */

/* rdapsync.error.pipeline of the file's first dead letter, into out. */
static int pipeline_of_file(const char *path, char *out, size_t size, diag_list *diags)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char err[256];
    int rc = -1;

    if (!f) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read the dead letters");
        return -1;
    }
    n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        diag_add(diags, DIAG_ERROR, path, 1, 1, NULL, "no dead letter in the file (name the pipeline with --pipeline)");
        free(line);
        return -1;
    }
    const rdapsync_json_api *j = json_api_table();
    rdapsync_value *doc = j->parse(line, (size_t)n, err, sizeof(err));
    const char *name = j->string_value(j->object_get(j->object_get(doc, "headers"), HEADER_PIPELINE));
    if (!doc)
        diag_add(diags, DIAG_ERROR, path, 1, 1, NULL, "not a dead letter of the file sink: %s", err);
    else if (!name)
        diag_add(diags, DIAG_ERROR, path, 1, 1, NULL,
                 "the first dead letter has no header " HEADER_PIPELINE " (name the pipeline with --pipeline)");
    else if (snprintf(out, size, "%s", name) < (int)size)
        rc = 0;
    j->decref(doc);
    free(line);
    return rc;
}

int dlq_replay_rewrite(ynode *root, const char *config_path, const char *dead_letters, const char *pipeline,
                       diag_list *diags)
{
    char name[256], replay_name[300];
    ynode *pipelines = (ynode *)ynode_get(root, "pipelines");
    ynode *pipe = NULL;

    if (!pipeline) {
        if (pipeline_of_file(dead_letters, name, sizeof(name), diags) != 0)
            return -1;
        pipeline = name;
    }
    if (root->kind != YNODE_MAPPING || !pipelines || pipelines->kind != YNODE_SEQUENCE) {
        diag_add(diags, DIAG_ERROR, config_path, root->line, root->column, NULL, "no 'pipelines' sequence");
        return -1;
    }
    /* Keep only the named pipeline. */
    for (size_t i = 0; i < pipelines->count;) {
        const ynode *n = ynode_get(pipelines->items[i], "name");
        if (!pipe && n && n->kind == YNODE_SCALAR && strcmp(n->scalar, pipeline) == 0) {
            pipe = pipelines->items[i++];
            continue;
        }
        ynode_free(pipelines->items[i]);
        memmove(&pipelines->items[i], &pipelines->items[i + 1], (pipelines->count - i - 1) * sizeof(ynode *));
        pipelines->count--;
    }
    if (!pipe || pipe->kind != YNODE_MAPPING) {
        diag_add(diags, DIAG_ERROR, config_path, pipelines->line, pipelines->column, NULL,
                 "no pipeline '%s' to replay the dead letters of %s through", pipeline, dead_letters);
        return -1;
    }
    /* Replaying into the file being read would read its own dead letters again. */
    const ynode *errors = ynode_get(pipe, "errors");
    const ynode *dead_letter = ynode_get(errors, "dead_letter");
    const ynode *dl_path = ynode_get(ynode_get(dead_letter, "config"), "path");
    const ynode *dl_plugin = ynode_get(dead_letter, "plugin");
    if (dl_plugin && dl_plugin->scalar && strcmp(dl_plugin->scalar, "file") == 0 && dl_path && dl_path->scalar &&
        strcmp(dl_path->scalar, dead_letters) == 0) {
        diag_add(diags, DIAG_ERROR, config_path, dl_path->line, dl_path->column, NULL,
                 "pipeline '%s' writes its dead letters to %s, the file to replay: move the file aside first "
                 "(mv %s %s.replay) and replay the moved file",
                 pipeline, dead_letters, dead_letters, dead_letters);
        return -1;
    }
    snprintf(replay_name, sizeof(replay_name), "%s" REPLAY_SUFFIX, pipeline);
    int line = pipe->line, column = pipe->column;
    if (map_set(pipe, "name", scalar_node(replay_name, line, column)) != 0 ||
        map_set(pipe, "source", block_node("file", "path", scalar_node(dead_letters, line, column), line, column)) !=
            0)
        goto oom;
    map_del(pipe, "tasks");
    map_del(root, "http");
    /* Encrypted dead letters: opened first, with the dead letter's keyring. */
    const ynode *keyring = ynode_get(dead_letter, "keyring");
    const ynode *protect = ynode_get(dead_letter, "protect");
    bool sealed = keyring && !(protect && protect->scalar && strcmp(protect->scalar, "encrypt") != 0);
    if (sealed) {
        ynode *decrypt = block_node("decrypt", "keyring", copy_node(keyring), keyring->line, keyring->column);
        ynode *transforms = (ynode *)ynode_get(pipe, "transforms");
        if (!decrypt)
            goto oom;
        if (!transforms || transforms->kind != YNODE_SEQUENCE) {
            ynode *seq = calloc(1, sizeof(*seq));
            if (!seq) {
                ynode_free(decrypt);
                goto oom;
            }
            seq->kind = YNODE_SEQUENCE;
            seq->line = line;
            seq->column = column;
            if (map_set(pipe, "transforms", seq) != 0) {
                ynode_free(decrypt);
                goto oom;
            }
            transforms = (ynode *)ynode_get(pipe, "transforms");
        }
        ynode **items = realloc(transforms->items, (transforms->count + 1) * sizeof(*items));
        if (!items) {
            ynode_free(decrypt);
            goto oom;
        }
        transforms->items = items;
        memmove(&items[1], &items[0], transforms->count * sizeof(*items));
        items[0] = decrypt;
        transforms->count++;
    }
    return 0;
oom:
    diag_add(diags, DIAG_ERROR, config_path, 0, 0, NULL, "out of memory");
    return -1;
}
