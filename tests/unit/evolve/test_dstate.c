/*
 * The delta transform's per-key state (plugins/transform-delta/dstate.c and
 * keymap.c): a lookup answers the latest version passed, from memory after
 * a key's first sight, and what SQLite holds after a commit, a reopen, or a
 * restart that forgets versions the checkpoint does not cover.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dstate.h"
#include "keymap.h"

static char dir[] = "/tmp/rdapsync-dstate-XXXXXX";

static void setup(void) { cr_assert_not_null(mkdtemp(dir)); }

static void teardown(void)
{
    char path[sizeof dir + 32];
    const char *files[] = {"d.sqlite", "d.sqlite-wal", "d.sqlite-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

TestSuite(dstate, .init = setup, .fini = teardown);

static void fill(unsigned char hash[DSTATE_HASH_BYTES], unsigned char byte)
{
    memset(hash, byte, DSTATE_HASH_BYTES);
}

static dstate *open_state(bool docs)
{
    char err[256];
    rdapsync_status status;
    dstate *s = dstate_open(dir, "d.sqlite", docs, &status, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    return s;
}

/* resume() of dstate_recover: the checkpoint of stream "s" partition 0 is
 * at *opaque, or there is none when it is negative. */
static bool resume_at(void *opaque, const char *stream, int32_t partition, int64_t *offset)
{
    int64_t at = *(int64_t *)opaque;
    if (at < 0 || !stream || strcmp(stream, "s") != 0 || partition != 0)
        return false;
    *offset = at;
    return true;
}

static void recover(dstate *s, int64_t checkpoint, size_t want_promoted, size_t want_discarded)
{
    char err[256];
    size_t promoted, discarded;
    cr_assert_eq(dstate_recover(s, resume_at, &checkpoint, &promoted, &discarded, err, sizeof err), 0, "%s", err);
    cr_assert_eq(promoted, want_promoted);
    cr_assert_eq(discarded, want_discarded);
}

/* 1 with *byte the stored hash's (uniform) byte, 0 when no live version. */
static int lookup(dstate *s, const char *key, unsigned char *byte)
{
    char err[256];
    unsigned char hash[DSTATE_HASH_BYTES];
    int rc = dstate_lookup(s, key, strlen(key), hash, NULL, err, sizeof err);
    cr_assert_geq(rc, 0, "%s", err);
    if (rc == 1)
        *byte = hash[0];
    return rc;
}

static void pass(dstate *s, const char *key, int byte, const char *doc, int64_t offset)
{
    char err[256];
    unsigned char hash[DSTATE_HASH_BYTES];
    fill(hash, (unsigned char)byte);
    rdapsync_position at = {.stream = "s", .partition = 0, .offset = offset};
    cr_assert_eq(dstate_pending(s, key, strlen(key), byte < 0 ? NULL : hash, doc, &at, err, sizeof err), 0, "%s",
                 err);
}

static void commit(dstate *s, int64_t offset)
{
    char err[256];
    rdapsync_position at = {.stream = "s", .partition = 0, .offset = offset};
    cr_assert_eq(dstate_commit(s, &at, 1, err, sizeof err), 0, "%s", err);
}

Test(dstate, lookup_answers_the_latest_version_passed_before_and_after_its_commit)
{
    dstate *s = open_state(false);
    unsigned char b;
    cr_assert_eq(lookup(s, "K", &b), 0, "an unknown key has no version");
    pass(s, "K", 1, NULL, 1);
    cr_assert_eq(lookup(s, "K", &b), 1);
    cr_assert_eq(b, 1);
    pass(s, "K", 2, NULL, 2);
    cr_assert_eq(lookup(s, "K", &b), 1);
    cr_assert_eq(b, 2, "the later pending version wins");
    commit(s, 2);
    cr_assert_eq(lookup(s, "K", &b), 1);
    cr_assert_eq(b, 2);
    pass(s, "K", -1, NULL, 3);
    cr_assert_eq(lookup(s, "K", &b), 0, "a pending delete hides the delivered version");
    dstate_close(s);
}

Test(dstate, a_reopened_state_reads_what_was_committed_and_forgets_what_the_checkpoint_does_not_cover)
{
    dstate *s = open_state(false);
    unsigned char b;
    pass(s, "A", 1, NULL, 1);
    pass(s, "B", 1, NULL, 2);
    commit(s, 2);
    pass(s, "A", 2, NULL, 3);  /* delivered: the checkpoint below covers it */
    pass(s, "B", -1, NULL, 4); /* not delivered: comes again */
    pass(s, "C", 3, NULL, 5);  /* not delivered */
    dstate_close(s);            /* as a kill leaves it: nothing committed */

    s = open_state(false);
    recover(s, 3, 1, 2);
    cr_assert_eq(lookup(s, "A", &b), 1);
    cr_assert_eq(b, 2, "a version the checkpoint covers became the delivered one");
    cr_assert_eq(lookup(s, "B", &b), 1);
    cr_assert_eq(b, 1, "a delete the checkpoint does not cover was forgotten");
    cr_assert_eq(lookup(s, "C", &b), 0, "a first version the checkpoint does not cover was forgotten");
    dstate_close(s);
}

Test(dstate, merge_patch_state_reads_back_the_document_of_the_latest_version)
{
    char err[256], *doc;
    unsigned char hash[DSTATE_HASH_BYTES];
    dstate *s = open_state(true);
    pass(s, "K", 1, "{\"v\":1}", 1);
    commit(s, 1);
    pass(s, "K", 2, "{\"v\":2}", 2);
    cr_assert_eq(dstate_lookup(s, "K", 1, hash, &doc, err, sizeof err), 1, "%s", err);
    cr_assert_str_eq(doc, "{\"v\":2}");
    cr_assert_eq(hash[0], 2);
    free(doc);
    dstate_close(s);
}

Test(keymap, keeps_every_key_apart_through_growth_and_updates)
{
    keymap *m = keymap_new();
    cr_assert_not_null(m);
    unsigned char hash[KEYMAP_HASH_BYTES], got[KEYMAP_HASH_BYTES];
    char key[32];
    bool live;
    /* Keys sharing long prefixes, and keys that differ only after a NUL. */
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "DOMAIN-%08d", i);
        key[n + 1] = (char)(i % 7);
        fill(hash, (unsigned char)i);
        cr_assert_eq(keymap_put(m, key, (size_t)n + (i % 2 ? 2 : 0), i % 5 ? hash : NULL), 0);
    }
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "DOMAIN-%08d", i);
        key[n + 1] = (char)(i % 7);
        cr_assert_eq(keymap_get(m, key, (size_t)n + (i % 2 ? 2 : 0), got, &live), 1, "key %d", i);
        cr_assert_eq(live, i % 5 != 0, "key %d", i);
        if (live)
            cr_assert_eq(got[0], (unsigned char)i, "key %d", i);
        cr_assert_eq(keymap_get(m, key, (size_t)n + (i % 2 ? 0 : 2), got, &live), 0, "key %d, other length", i);
    }
    fill(hash, 0xee);
    cr_assert_eq(keymap_put(m, "DOMAIN-00000005", 15, hash), 0);
    cr_assert_eq(keymap_get(m, "DOMAIN-00000005", 15, got, &live), 1);
    cr_assert(live, "an update gives a deleted key a version again");
    cr_assert_eq(got[0], 0xee);
    keymap_free(m);
}
