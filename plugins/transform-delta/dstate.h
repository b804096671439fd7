/*
 * The delta transform's per-key state: the content hash (and, for merge
 * patches, the document) of the last version of each key that was
 * delivered, in SQLite in the task's state directory. What the transform
 * passed but the sink has not flushed yet is pending (a table of its own,
 * written without an fsync: it survives a kill of the process);
 * dstate_commit() moves what a checkpoint covers into the durable table in
 * one fsynced transaction, and dstate_recover() settles what a killed run
 * left pending. Lookups of hashes are answered from memory after a key's
 * first sight (keymap.h): the repeat of a key's last document costs no
 * SQLite call; only a change writes (one pending row, unsynced).
 */
#ifndef RDAPSYNC_DSTATE_H
#define RDAPSYNC_DSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#define DSTATE_HASH_BYTES 32 /* chash.h's CHASH_BYTES */

/* The state file's layout and meaning, in its `meta` table. 1: no meta
 * table, SHA-256 hashes (rdapsync before the keyed XXH3 hash); 2: a meta
 * table naming the hash and holding its key. A newer format is refused,
 * never read. */
#define DSTATE_FORMAT 2

typedef struct dstate dstate;

/*
 * Opens (creating) <dir>/<file>; docs: documents will be stored and read
 * back (merge patches); hash: the content hash's name (chash.h), whose
 * key_bytes of key are made at random with the state and kept in it.
 * A state of format 1 or of another hash is rebuilt empty (*rebuilt set):
 * its hashes cannot be compared with the new ones, so every key's next
 * version passes as changed, once; a format-1 state of SHA-256 opened for
 * SHA-256 keeps its rows. A state of a newer format is an ERROR. NULL with
 * err; *status RETRY or ERROR. Caller frees with dstate_close().
 */
dstate *dstate_open(const char *dir, const char *file, bool docs, const char *hash, size_t key_bytes, bool *rebuilt,
                    rdapsync_status *status, char *err, size_t err_size);
void dstate_close(dstate *s);

/* The hash's key (dstate_open's key_bytes), valid until dstate_close. */
const unsigned char *dstate_hash_key(const dstate *s);

/*
 * What is known of `key` (pending first, then durable): 1 with hash (and,
 * when doc is not NULL, *doc a malloc'd copy of the stored document text or
 * NULL when none was kept; the caller frees) filled, 0 when the key has no
 * live version (unknown or deleted), -1 with err.
 */
int dstate_lookup(dstate *s, const char *key, size_t key_len, unsigned char hash[DSTATE_HASH_BYTES], char **doc,
                  char *err, size_t err_size);

/* Notes a version passed at `position`: hash NULL for a delete; doc may be
 * NULL (not kept). Until the first dstate_flush() it is written at once (a
 * host without transform_batch_end); after it, it is held in memory until
 * the next dstate_flush(). Lookups see it either way. 0 or -1 with err. */
int dstate_pending(dstate *s, const char *key, size_t key_len, const unsigned char *hash, const char *doc,
                   const rdapsync_position *position, char *err, size_t err_size);

/* Writes the pending versions held since the last call, in one
 * transaction (unsynced: in the file, which survives a kill -9), and from
 * now on holds them: the host calls it (transform_batch_end) before the
 * sink writes what they belong to. 0 or -1 with err (then they are still
 * held). */
int dstate_flush(dstate *s, char *err, size_t err_size);

/* Makes the pending versions at or before `positions` durable (in the
 * order they were passed) and forgets them as pending. 0 or -1 with err
 * (then nothing changed). */
int dstate_commit(dstate *s, const rdapsync_position *positions, size_t count, char *err, size_t err_size);

/*
 * At open, for pending rows a previous run left: the rows a resumed
 * checkpoint covers (resume() gives the offset of a stream and partition,
 * false when there is none; a sink that stores positions with its data may
 * be ahead of the checkpoint file and has said so by then) were delivered
 * and become state; the others are forgotten (the source sends them
 * again). 0 or -1 with err.
 */
typedef bool (*dstate_resume_fn)(void *opaque, const char *stream, int32_t partition, int64_t *offset);
int dstate_recover(dstate *s, dstate_resume_fn resume, void *opaque, size_t *promoted, size_t *discarded, char *err,
                   size_t err_size);

#endif
