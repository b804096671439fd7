/*
 * Drives the built file plugins the way the host does: the real loader on
 * the .so files in build/plugins, the real option filler on a YAML snippet, a context
 * without a task (checkpoints then live in the context: checkpoint_override
 * sets what checkpoint_get answers), real batches.
 */
#ifndef FILE_PLUGINS_HARNESS_H
#define FILE_PLUGINS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "loader.h"

typedef struct instance {
    loaded_plugin *plugin;
    void *settings;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
    char err[1024];
} instance;

/* The services table plugins get (for building records and reading values). */
const rdapsync_host *host(void);

/* A fresh directory under $TMPDIR (or /tmp); removed by tmpdir_remove(). */
char *tmpdir_new(void);
void tmpdir_remove(char *dir);
/* "<dir>/<name>", malloc'd. */
char *path_join(const char *dir, const char *name);
void file_write(const char *path, const char *text, size_t len, bool append);
void file_write_str(const char *path, const char *text);
/* Whole file, NUL-terminated; *len its length (may be NULL). Caller frees. */
char *file_read(const char *path, size_t *len);
size_t file_count_lines(const char *path);

/*
 * Loads "<kind>-<name>.so" from the plugin build directory and fills its
 * options from `yaml` (a YAML mapping, e.g. "{path: x, follow: true}"),
 * then makes its context (pipeline "test", task `task_index` of
 * `task_count`, state directory `state_dir`, may be NULL). Fails the
 * test on any error.
 */
void instance_load(instance *in, rdapsync_kind kind, const char *name, const char *yaml, const char *state_dir,
                   int task_index, int task_count);
rdapsync_status instance_open(instance *in);
void instance_close(instance *in);

/* Polls until END (or `max_polls` polls), collecting everything into a
 * batch of `room` records (fails the test if it fills up). */
rdapsync_batch *poll_all(instance *source, size_t room, int max_polls);

/* Adds an upsert record (value parsed from `json`, NULL for none). */
rdapsync_record *record_upsert(rdapsync_batch *batch, const char *key, const char *json, const char *stream,
                               int64_t offset);

/* The value of plugin counter `name` of plugin `plugin` (pipeline "test"), 0 if absent. */
double metric_value(const char *plugin, const char *name);

#endif
