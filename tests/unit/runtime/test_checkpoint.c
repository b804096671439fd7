/* Checkpoint files: round trip, atomic replacement, what a crash leaves. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "fakes.h"

static char *dir;
static char err[1024];

static void setup(void) { dir = fake_state_dir(); }
static void teardown(void)
{
    checkpoint_test_crash_before_rename(false);
    fake_remove_tree(dir);
    free(dir);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

static char *path_in(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(checkpoint, round_trip_keeps_every_stream_partition_and_offset)
{
    checkpoint_map *out = checkpoint_map_new(), *in = checkpoint_map_new();
    int64_t offset;

    cr_assert_eq(checkpoint_map_set(out, "rdap.changes", 0, 42), 0);
    cr_assert_eq(checkpoint_map_set(out, "rdap.changes", 3, 9000000000LL), 0);
    cr_assert_eq(checkpoint_map_set(out, NULL, -1, 7), 0);
    cr_assert_eq(checkpoint_map_set(out, "rdap.changes", 0, 43), 0); /* replaces */
    cr_assert_eq(checkpoint_save(dir, out, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), 0, "%s", err);

    cr_assert_eq(checkpoint_map_count(in), 3);
    cr_assert(checkpoint_map_get(in, "rdap.changes", 0, &offset));
    cr_assert_eq(offset, 43);
    cr_assert(checkpoint_map_get(in, "rdap.changes", 3, &offset));
    cr_assert_eq(offset, 9000000000LL);
    cr_assert(checkpoint_map_get(in, NULL, -1, &offset));
    cr_assert_eq(offset, 7);
    cr_assert_not(checkpoint_map_get(in, "rdap.changes", 1, &offset));
    cr_assert_not(checkpoint_map_get(in, "other", 0, &offset));
    checkpoint_map_free(out);
    checkpoint_map_free(in);
}

Test(checkpoint, missing_file_is_an_empty_checkpoint)
{
    checkpoint_map *in = checkpoint_map_new();
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(checkpoint_map_count(in), 0);
    checkpoint_map_free(in);
}

Test(checkpoint, crash_between_temp_write_and_rename_leaves_the_old_checkpoint)
{
    checkpoint_map *map = checkpoint_map_new(), *in = checkpoint_map_new();
    int64_t offset;
    struct stat st;

    checkpoint_map_set(map, "s", 0, 100);
    cr_assert_eq(checkpoint_save(dir, map, err, sizeof(err)), 0, "%s", err);
    checkpoint_map_set(map, "s", 0, 200);
    checkpoint_test_crash_before_rename(true);
    cr_assert_eq(checkpoint_save(dir, map, err, sizeof(err)), -1);
    checkpoint_test_crash_before_rename(false);

    char *temp = path_in(CHECKPOINT_TEMP_FILE);
    cr_assert_eq(stat(temp, &st), 0, "the new checkpoint was written to the temporary file");
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), 0, "%s", err);
    cr_assert(checkpoint_map_get(in, "s", 0, &offset));
    cr_assert_eq(offset, 100, "the old checkpoint survives: got %lld", (long long)offset);
    free(temp);
    checkpoint_map_free(map);
    checkpoint_map_free(in);
}

Test(checkpoint, torn_temp_file_is_ignored_and_replaced)
{
    checkpoint_map *map = checkpoint_map_new(), *in = checkpoint_map_new();
    int64_t offset;

    checkpoint_map_set(map, "s", 0, 100);
    cr_assert_eq(checkpoint_save(dir, map, err, sizeof(err)), 0, "%s", err);
    char *temp = path_in(CHECKPOINT_TEMP_FILE);
    write_file(temp, "{\"version\":1,\"positions\":[{\"stream\":\"s\",\"part");

    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), 0, "%s", err);
    cr_assert(checkpoint_map_get(in, "s", 0, &offset));
    cr_assert_eq(offset, 100);

    checkpoint_map_set(map, "s", 0, 300);
    cr_assert_eq(checkpoint_save(dir, map, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), 0, "%s", err);
    cr_assert(checkpoint_map_get(in, "s", 0, &offset));
    cr_assert_eq(offset, 300);
    free(temp);
    checkpoint_map_free(map);
    checkpoint_map_free(in);
}

Test(checkpoint, corrupt_checkpoint_file_is_an_error_not_a_fresh_start)
{
    checkpoint_map *in = checkpoint_map_new();
    char *path = path_in(CHECKPOINT_FILE);

    write_file(path, "{\"version\":1,\"positions\":[{\"stream\":\"s\"");
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), -1);
    cr_assert(strstr(err, CHECKPOINT_FILE) != NULL, "the error names the file: %s", err);

    write_file(path, "{\"version\":2,\"positions\":[]}");
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), -1);

    write_file(path, "{\"version\":1,\"positions\":[{\"stream\":\"s\",\"partition\":\"0\",\"offset\":1}]}");
    cr_assert_eq(checkpoint_load(dir, in, err, sizeof(err)), -1);
    cr_assert(strstr(err, "positions[0]") != NULL, "%s", err);
    free(path);
    checkpoint_map_free(in);
}

Test(checkpoint, task_dir_is_state_dir_pipeline_task_index)
{
    char *p = checkpoint_task_dir("var/state", "rdap-domains", 3);
    cr_assert_str_eq(p, "var/state/rdap-domains/task-3");
    free(p);
}
