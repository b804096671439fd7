/*
 * The delta transform's per-key state (plugins/transform-delta/dstate.c and
 * keymap.c): a lookup answers the latest version passed, from memory after
 * a key's first sight, and what SQLite holds after a commit, a reopen, or a
 * restart that forgets versions the checkpoint does not cover; the state's
 * format (its content hash and key) is kept, and a state of another hash,
 * an earlier format or a newer one is rebuilt, migrated or refused, never
 * misread. The content hash itself (chash.c) is checked at the end.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "chash.h"
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

/* Opens d.sqlite for `hash`; *rebuilt (when not NULL) says whether it was. */
static dstate *open_with(const char *hash, bool docs, bool *rebuilt)
{
    char err[256];
    rdapsync_status status;
    bool r;
    dstate *s = dstate_open(dir, "d.sqlite", docs, hash, chash_key_bytes(hash), &r, &status, err, sizeof err);
    cr_assert_not_null(s, "%s", err);
    if (rebuilt)
        *rebuilt = r;
    return s;
}

static dstate *open_state(bool docs) { return open_with("xxh3-128", docs, NULL); }

/* Runs SQL on d.sqlite as another program would. */
static void sql(const char *text)
{
    char path[sizeof dir + 16];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/d.sqlite", dir);
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK, "%s: %s", text, sqlite3_errmsg(db));
    sqlite3_close(db);
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

/* The tables of a format-1 state (before the meta table), with key K
 * delivered at hash byte 7, as an earlier rdapsync left them. */
static void write_format_1_state(void)
{
    sql("PRAGMA journal_mode=WAL;"
        "CREATE TABLE delivered (key BLOB PRIMARY KEY, hash BLOB NOT NULL, doc TEXT);"
        "CREATE TABLE pending (seq INTEGER PRIMARY KEY, key BLOB NOT NULL, hash BLOB, doc TEXT, "
        "stream TEXT NOT NULL, part INTEGER NOT NULL, off INTEGER NOT NULL);"
        "INSERT INTO delivered VALUES (CAST('K' AS BLOB), zeroblob(32), NULL);"
        "UPDATE delivered SET hash = CAST(x'0707070707070707070707070707070707070707070707070707070707070707' AS BLOB);");
}

Test(dstate, a_state_keeps_its_hash_key_across_reopens_and_a_new_state_gets_a_new_one)
{
    unsigned char first[CHASH_KEY_BYTES], zero[CHASH_KEY_BYTES] = {0};
    bool rebuilt;
    dstate *s = open_with("xxh3-128", false, &rebuilt);
    cr_assert_not(rebuilt, "a new state has nothing to rebuild");
    memcpy(first, dstate_hash_key(s), sizeof first);
    cr_assert_neq(memcmp(first, zero, sizeof first), 0, "the key is random");
    dstate_close(s);
    s = open_with("xxh3-128", false, &rebuilt);
    cr_assert_not(rebuilt);
    cr_assert_eq(memcmp(first, dstate_hash_key(s), sizeof first), 0, "the same state, the same key");
    dstate_close(s);
    teardown();
    strcpy(dir + sizeof dir - 7, "XXXXXX");
    setup();
    s = open_with("xxh3-128", false, NULL);
    cr_assert_neq(memcmp(first, dstate_hash_key(s), sizeof first), 0, "another state, another key");
    dstate_close(s);
}

Test(dstate, a_state_of_another_hash_is_rebuilt_empty_never_compared)
{
    unsigned char b;
    bool rebuilt;
    dstate *s = open_with("xxh3-128", false, NULL);
    pass(s, "A", 1, NULL, 1);
    commit(s, 1);
    pass(s, "B", 2, NULL, 2); /* left pending, as a kill leaves it */
    dstate_close(s);
    s = open_with("sha256", false, &rebuilt);
    cr_assert(rebuilt);
    cr_assert_null(dstate_hash_key(s), "SHA-256 takes no key");
    recover(s, 2, 0, 0);
    cr_assert_eq(lookup(s, "A", &b), 0, "a hash of the other kind is gone: the key's next version passes");
    cr_assert_eq(lookup(s, "B", &b), 0);
    pass(s, "A", 3, NULL, 3);
    commit(s, 3);
    dstate_close(s);
    s = open_with("sha256", false, &rebuilt);
    cr_assert_not(rebuilt, "the same hash again: kept");
    cr_assert_eq(lookup(s, "A", &b), 1);
    cr_assert_eq(b, 3);
    dstate_close(s);
}

Test(dstate, a_format_1_state_is_rebuilt_for_xxh3)
{
    unsigned char b;
    bool rebuilt;
    write_format_1_state();
    dstate *s = open_with("xxh3-128", false, &rebuilt);
    cr_assert(rebuilt, "format 1 held SHA-256 hashes");
    cr_assert_eq(lookup(s, "K", &b), 0, "its SHA-256 hash is not compared with XXH3 ones");
    dstate_close(s);
}

Test(dstate, a_format_1_state_opened_for_sha256_keeps_its_rows)
{
    unsigned char b;
    bool rebuilt;
    write_format_1_state();
    dstate *s = open_with("sha256", false, &rebuilt);
    cr_assert_not(rebuilt);
    cr_assert_eq(lookup(s, "K", &b), 1, "the same hash: the delivered version is kept");
    cr_assert_eq(b, 7);
    dstate_close(s);
    s = open_with("xxh3-128", false, &rebuilt);
    cr_assert(rebuilt, "now recorded as a SHA-256 state (format 2): another hash rebuilds it");
    dstate_close(s);
}

Test(dstate, a_state_of_a_newer_format_is_refused_and_left_as_it_is)
{
    char err[256];
    rdapsync_status status;
    bool rebuilt;
    dstate *s = open_state(false);
    pass(s, "A", 1, NULL, 1);
    commit(s, 1);
    dstate_close(s);
    sql("UPDATE meta SET value = 3 WHERE name = 'format'");
    s = dstate_open(dir, "d.sqlite", false, "xxh3-128", CHASH_KEY_BYTES, &rebuilt, &status, err, sizeof err);
    cr_assert_null(s);
    cr_assert_eq(status, RDAPSYNC_ERROR, "refused, not retried");
    cr_assert(strstr(err, "format 3 is newer") != NULL, "%s", err);
    sql("UPDATE meta SET value = 2 WHERE name = 'format'");
    unsigned char b;
    s = open_state(false);
    cr_assert_eq(lookup(s, "A", &b), 1, "the refused open changed nothing");
    dstate_close(s);
}

/* The digest of `text` with a fresh context of kind `name` and key. */
static void digest(const char *name, const unsigned char *key, const char *text, unsigned char out[CHASH_BYTES])
{
    chash *h = chash_new(name, key);
    cr_assert_not_null(h);
    chash_buffer b = {.h = h};
    cr_assert_eq(chash_begin(h), 0);
    /* Short pieces through the buffer, a long one past it. */
    for (const char *p = text; *p; p++)
        cr_assert_eq(chash_feed(&b, p, 1), 0);
    cr_assert_eq(chash_buffer_flush(&b), 0);
    cr_assert_eq(chash_end(h, out), 0);
    chash_free(h);
}

Test(chash, sha256_is_the_standard_digest)
{
    unsigned char out[CHASH_BYTES];
    digest("sha256", NULL, "abc", out);
    static const unsigned char want[4] = {0xba, 0x78, 0x16, 0xbf};
    cr_assert_eq(memcmp(out, want, sizeof want), 0);
}

Test(chash, xxh3_depends_on_the_key_and_on_every_byte_fed_in_pieces_or_whole)
{
    unsigned char k1[CHASH_KEY_BYTES], k2[CHASH_KEY_BYTES], a[CHASH_BYTES], b[CHASH_BYTES], zero[16] = {0};
    for (size_t i = 0; i < CHASH_KEY_BYTES; i++) {
        k1[i] = (unsigned char)(i * 7 + 1);
        k2[i] = (unsigned char)(i * 7 + 2);
    }
    char text[2000];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    digest("xxh3-128", k1, text, a);
    cr_assert_eq(memcmp(a + 16, zero, 16), 0, "16 bytes of digest, then zeros");
    digest("xxh3-128", k2, text, b);
    cr_assert_neq(memcmp(a, b, 16), 0, "another key, another digest");
    text[1000] = 'y';
    digest("xxh3-128", k1, text, b);
    cr_assert_neq(memcmp(a, b, 16), 0, "one byte changed");
    /* Fed whole (past the buffer) or byte by byte: the same digest. */
    chash *h = chash_new("xxh3-128", k1);
    chash_buffer buf = {.h = h};
    unsigned char whole[CHASH_BYTES];
    cr_assert_eq(chash_begin(h), 0);
    cr_assert_eq(chash_feed(&buf, "x", 1), 0);
    cr_assert_eq(chash_feed(&buf, text + 1, strlen(text) - 1), 0);
    cr_assert_eq(chash_buffer_flush(&buf), 0);
    cr_assert_eq(chash_end(h, whole), 0);
    chash_free(h);
    cr_assert_eq(memcmp(whole, b, CHASH_BYTES), 0);
    cr_assert_null(chash_new("md5", k1), "an unknown hash");
}

Test(dstate, after_the_first_flush_a_batch_s_versions_reach_the_file_only_at_the_next_flush)
{
    char err[256];
    unsigned char b;
    dstate *s = open_state(false);
    pass(s, "A", 1, NULL, 1); /* before any flush: written at once (a host without batch ends) */
    cr_assert_eq(dstate_flush(s, err, sizeof err), 0, "%s", err);
    pass(s, "B", 2, NULL, 2); /* held */
    cr_assert_eq(lookup(s, "B", &b), 1, "a held version is seen by lookups");
    cr_assert_eq(b, 2);
    cr_assert_eq(dstate_flush(s, err, sizeof err), 0, "%s", err);
    pass(s, "C", 3, NULL, 3); /* held, never flushed: its batch was never written */
    dstate_close(s);          /* as a kill leaves it */

    s = open_state(false);
    recover(s, 3, 2, 0);
    cr_assert_eq(lookup(s, "A", &b), 1, "written at once, then made state by the checkpoint");
    cr_assert_eq(lookup(s, "B", &b), 1, "flushed at its batch's end, then made state by the checkpoint");
    cr_assert_eq(b, 2);
    cr_assert_eq(lookup(s, "C", &b), 0, "never flushed: its batch comes again");
    dstate_close(s);
}

Test(dstate, a_commit_writes_held_versions_it_covers_first)
{
    char err[256];
    unsigned char b;
    dstate *s = open_state(false);
    cr_assert_eq(dstate_flush(s, err, sizeof err), 0, "%s", err);
    pass(s, "A", 4, NULL, 1);
    commit(s, 1);
    dstate_close(s);
    s = open_state(false);
    cr_assert_eq(lookup(s, "A", &b), 1);
    cr_assert_eq(b, 4);
    dstate_close(s);
}
