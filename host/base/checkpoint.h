/*
 * Checkpoints: for one task of one pipeline, the last committed position of
 * every (stream, partition) its source reported, kept in
 *   <state_dir>/<pipeline>/task-<i>/checkpoint.json
 * and replaced atomically: write checkpoint.json.tmp, fsync it, rename it
 * over checkpoint.json, fsync the directory. A crash at any moment leaves
 * either the old or the new file; a torn temporary file is never read.
 *
 * File shape (stream null when the source has a single stream):
 *   {"version":1,"positions":[{"stream":"t","partition":0,"offset":42},...]}
 */
#ifndef RDAPSYNC_HOST_CHECKPOINT_H
#define RDAPSYNC_HOST_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#define CHECKPOINT_FILE "checkpoint.json"
#define CHECKPOINT_TEMP_FILE "checkpoint.json.tmp"

/* (stream, partition) -> offset, in first-seen order. Not thread-safe: one
 * task thread owns it. */
typedef struct checkpoint_map checkpoint_map;

checkpoint_map *checkpoint_map_new(void); /* caller frees with checkpoint_map_free() */
void checkpoint_map_free(checkpoint_map *map);
void checkpoint_map_clear(checkpoint_map *map);
bool checkpoint_map_get(const checkpoint_map *map, const char *stream, int32_t partition, int64_t *offset);
/* Sets (copies stream); 0 or -1 on allocation failure. */
int checkpoint_map_set(checkpoint_map *map, const char *stream, int32_t partition, int64_t offset);
size_t checkpoint_map_count(const checkpoint_map *map);
/* Borrowed array of checkpoint_map_count() positions; valid until the next set/clear. */
const rdapsync_position *checkpoint_map_positions(const checkpoint_map *map);

/* "<state_dir>/<pipeline>/task-<index>"; caller frees with free(). */
char *checkpoint_task_dir(const char *state_dir, const char *pipeline, int task_index);
/* mkdir -p; 0 or -1 with errno. */
int checkpoint_mkdirs(const char *path);

/* Replaces `map` with the checkpoint in `dir`. A missing file is an empty
 * checkpoint (0). A file that cannot be read or parsed is an error (-1,
 * reason in err): starting over silently would replay or skip data. */
int checkpoint_load(const char *dir, checkpoint_map *map, char *err, size_t err_size);
/* Writes `map` atomically into `dir` (created if missing); 0 or -1 + err. */
int checkpoint_save(const char *dir, const checkpoint_map *map, char *err, size_t err_size);

/* Test hook: when set, checkpoint_save() stops after writing and syncing the
 * temporary file and before the rename, as a crash there would, and
 * returns -1. */
void checkpoint_test_crash_before_rename(bool enable);

#endif
