/*
 * rdapsync SDK: the plugin descriptor and its entry function.
 *
 * A plugin is one shared object that exports exactly one function:
 *
 *     RDAPSYNC_PLUGIN_ENTRY(host) { saved_host = host; return &descriptor; }
 *
 * The host dlopen()s the file (RTLD_NOW | RTLD_LOCAL), finds the entry
 * function, calls it once with its services table and checks, before calling
 * anything else, that the descriptor's struct_size, ABI major and minor and
 * kind are acceptable; a refusal names the field that differs.
 *
 * Lifecycle of one instance (one per task):
 *   open -> (poll/commit | transform | write/flush)* -> close
 * Callbacks of one instance never run concurrently; different instances of
 * the same plugin may run on different threads at once, so keep state in
 * the instance, not in globals (the saved host pointer is the exception).
 * Threads: a source's callbacks all run on their task's thread. A
 * transform's open and close run there too; its transform calls run one at
 * a time, in record order, on the task's thread or on its transform thread
 * (batch.transform_thread), which may change between batches: keep no
 * thread-local state. A transform whose descriptor sets
 * RDAPSYNC_TRANSFORM_CONCURRENT lifts the "one at a time, in record order"
 * (see flags below). A sink's open and close run on the task's thread,
 * its write and flush on the task's flusher thread (one at a time, in
 * order), so a sink flushes while its task polls and transforms the next
 * batch.
 *
 * Every callback that can fail gets a caller-owned buffer `err` of
 * `err_size` bytes (at least 1024) for a one-line reason (no secrets, no
 * newline); write it with snprintf, a longer reason is cut.
 */
#ifndef RDAPSYNC_PLUGIN_H
#define RDAPSYNC_PLUGIN_H

#include "abi.h"
#include "host.h"
#include "options.h"
#include "record.h"

/* ---- ABI 1.5: what a sink holds about a person (subject access, erasure,
 * retention; docs/plugin-guide.md, "Subjects and retention") ---- */

/*
 * A data subject: a person named by one identifier. `kind` is one of
 * "email", "handle", "name", "phone"; `value` is UTF-8 as the requester
 * wrote it. Both are borrowed for the call they are passed to.
 * What a kind matches is the toolkit's, so that every sink answers alike
 * (rdapsync_sinktk_subject_match in sinktk.h): in the unified shape the
 * contacts' handle / emails / contact_uris mailto: / name / alt_names /
 * phones and faxes (email and handle compared without ASCII case, names
 * also with runs of white space as one space, phones by their digits),
 * the same properties of a raw RDAP entity (handle, vCard email, fn,
 * tel), an entity document's own handle, and the same inside a
 * document's `raw` member.
 */
typedef struct rdapsync_subject {
    const char *kind;
    const char *value;
} rdapsync_subject;

/*
 * One stored document about a subject, handed to a find callback. Every
 * pointer is borrowed for the callback only.
 *   where     the part of the store: "live" (the current rows), "history"
 *             (history: { table }), "heads" (conflict heads kept for
 *             resolution), or, for a file sink, the file's path
 *   key       the record key (key_len bytes, not NUL-terminated), or
 *             NULL when the row has none (append mode, a keyless line)
 *   document  the stored JSON text (document_len bytes, not
 *             NUL-terminated); for a delete or tombstone row the sink does
 *             not report it (it holds nothing about anyone)
 */
typedef struct rdapsync_subject_hit {
    const char *where;
    const char *key;
    size_t key_len;
    const char *document;
    size_t document_len;
} rdapsync_subject_hit;

/* Receives each hit; returns 0 to go on, non-zero to stop the walk (the
 * call then answers ERROR with "stopped by the caller"). */
typedef int (*rdapsync_subject_found_fn)(void *arg, const rdapsync_subject_hit *hit);

/*
 * What becomes of one stored document (erasure, retention): `document` is
 * its JSON text (`len` bytes, borrowed for the call). Returns 0 with *out
 * the replacement JSON text (*out_len bytes, allocated with host->alloc;
 * the sink frees it with host->free), or 0 with *out NULL: delete the
 * document. Returns -1 when it cannot decide (the reason is the caller's
 * to keep): the sink stops, undoes what its store can undo, and answers
 * ERROR. A NULL rewrite function means "delete".
 */
typedef int (*rdapsync_subject_rewrite_fn)(void *arg, const char *document, size_t len, char **out,
                                           size_t *out_len);


typedef struct rdapsync_plugin {
    /* Set with RDAPSYNC_DESCRIPTOR_HEADER: sizeof(rdapsync_plugin) and the
     * ABI version the plugin was compiled against. */
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    const char *name;        /* [a-z0-9_-]+, unique per kind */
    rdapsync_kind kind;
    const char *version;     /* the plugin's own version, e.g. "1.2.0" */
    const char *description; /* one line */

    /* Options, ended by a row whose name is NULL; NULL means none. */
    const rdapsync_option *options;
    /* Size of the config struct the host fills from `options`. */
    size_t config_size;

    /* Optional cross-field check of a filled config, run by `validate` and
     * before any task starts. No I/O. OK or ERROR (+ err). */
    rdapsync_status (*check)(const void *config, char *err, size_t err_size);

    /* Creates an instance. `config` is borrowed until close() returns.
     * On OK, *state is the instance (may be NULL if the plugin needs none).
     * RETRY: the host backs off and calls open again (server not up yet).
     * ERROR: permanent for these options (a missing input, a refused
     * configuration): the task fails and is not restarted, since opening
     * again could only fail the same way. */
    rdapsync_status (*open)(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size);

    /* Releases the instance; never fails. Called once after a successful
     * open, also after failures. */
    void (*close)(void *state);

    /* ---- sources ----
     * poll: appends up to batch_room() records to `batch`, blocking at most
     * timeout_ms for the first one. OK with zero records is fine. END when a
     * bounded input is exhausted and everything has been handed over. */
    rdapsync_status (*poll)(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size);
    /* The host has durably delivered everything up to these positions (one
     * per stream/partition, `offset` as in rdapsync_position) and written its
     * checkpoint; the source may now acknowledge upstream (e.g. commit Kafka
     * offsets). Optional. */
    rdapsync_status (*commit)(void *state, const rdapsync_position *positions, size_t count, char *err,
                              size_t err_size);

    /* ---- transforms ----
     * Changes `record` in place through the host setters (the record belongs
     * to `batch`). OK keeps it, DROP consumes it on purpose, ERROR sends it
     * to the dead-letter sink with err as the reason. */
    rdapsync_status (*transform)(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                 size_t err_size);

    /* ---- sinks ----
     * write: stores the batch's records (borrowed until return); may buffer.
     * flush: makes everything written since the last successful flush
     * durable; only then does the host commit source positions.
     * The host calls write exactly once before each flush, so a flush
     * covers the records of one write.
     * After RETRY from either, the sink must have undone the partial work:
     * the host backs off and writes the same batch again (only that batch:
     * what an earlier flush acknowledged is never rewritten), then flushes.
     * Records the sink can never store are reported with host->reject()
     * and the call still returns OK. */
    rdapsync_status (*write)(void *state, const rdapsync_batch *batch, char *err, size_t err_size);
    rdapsync_status (*flush)(void *state, char *err, size_t err_size);

    /* ---- ABI 1.1 ----
     * RDAPSYNC_TRANSFORM_* bits; 0 for none. The host reads it only from a
     * descriptor whose struct_size holds it (a plugin built against 1.0
     * has none). */
    uint32_t flags;

    /* ---- ABI 1.2 ----
     * Where the config struct has its rdapsync_options_set (options.h), for
     * the host to fill: set it with RDAPSYNC_OPTIONS_SET_IN(type, member).
     * It is the offset of the end of that member, so that 0, the value
     * of a descriptor that does not name it, means "none". The host reads
     * it only from a descriptor whose struct_size holds it. */
    size_t options_set_end;

    /* ---- ABI 1.3 ----
     * Transforms only, optional: the records this instance saw up to these
     * positions (one per stream/partition, as for a source's commit) have
     * been flushed by the sink, and the host is about to write the task's
     * checkpoint for them. A transform that keeps state derived from the
     * records it passed (e.g. the last delivered content per key) makes
     * that state durable here, and only here: state of records the sink
     * has not flushed must stay pending, so that a crash (kill -9) before
     * the checkpoint replays those records against the state as it was.
     * Called on the task's thread, never concurrently with transform()
     * calls of the same instance (the host waits for the batch's transform
     * calls to finish first), with the same positions the source's commit
     * then receives. Records dropped by this or a later transform, and
     * records sent to the dead-letter sink, count as delivered.
     * OK, or ERROR (+ err): the task fails before its checkpoint is
     * written, so the batch is replayed after the restart. The host reads
     * it only from a descriptor whose struct_size holds it: test with
     * RDAPSYNC_HAS(rdapsync_plugin, desc, transform_commit). */
    rdapsync_status (*transform_commit)(void *state, const rdapsync_position *positions, size_t count, char *err,
                                        size_t err_size);

    /* ---- ABI 1.5 ----
     * Sinks only, each optional (NULL: the sink cannot; the host reports
     * the sink as not covered). They run on an instance opened for them
     * alone (the host opens the sink with the pipeline's config, calls one
     * of these, and closes it; no write or flush happens on it), on the
     * caller's thread. Test with RDAPSYNC_HAS(rdapsync_plugin, desc,
     * subject_find) before reading them. A pipeline of several tasks is
     * opened once per task index: a sink whose store is shared by the
     * tasks answers the later calls from the same store (nothing left to
     * change), a sink with a store per task (file {task}) reaches its own.
     *
     * What every one of them reaches: the live rows, the history table
     * when one is configured, and the conflict heads when the sink keeps
     * them; dead-letter stores are sinks too and the host calls the same
     * capability on the pipeline's dead-letter sink. Deletes and
     * tombstones hold no document and are left alone.
     *
     * subject_find: calls fn once per stored document that concerns `s`
     * (see rdapsync_subject), in no promised order. Changes nothing.
     * OK, RETRY (the store is unreachable: the host may call again), or
     * ERROR (+ err; also when fn stopped the walk, or `s->kind` is not one
     * of the four).
     *
     * subject_erase: every document that concerns `s` is passed to `fn`
     * (NULL: deleted) and replaced by what it returns, or deleted. A
     * replacement that still concerns `s` is deleted instead: erasure never
     * leaves a match behind. *changed gets the number of documents
     * replaced or deleted; a replacement byte-identical to the document
     * does not count. Idempotent: a second call with the same subject and
     * policy changes nothing and sets *changed to 0, so a crashed erasure
     * is resumed by calling again. Where the store has transactions the
     * whole call is one; otherwise each document is replaced atomically
     * (a file is rewritten to a temporary file, synced, and renamed).
     * Stores that keep deleted bytes around (SQLite free pages and WAL)
     * are made to overwrite them before OK. Answers as subject_find.
     *
     * retention_purge: every document whose retention deadline (the
     * string rdapsync.retention_until, RFC 3339, that the redact transform
     * writes; rdapsync_sinktk_retention_due) is before `now_ms` (ms since
     * the epoch) is passed to `anonymise` (NULL: deleted) and replaced or
     * deleted as in subject_erase; a replacement that is still past its
     * deadline is kept (anonymised data may stay). Documents without a
     * deadline are never touched. *purged gets the count. Idempotent as
     * subject_erase once the replacements carry no deadline in the past. */
    rdapsync_status (*subject_find)(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                    char *err, size_t err_size);
    rdapsync_status (*subject_erase)(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn,
                                     void *arg, uint64_t *changed, char *err, size_t err_size);
    rdapsync_status (*retention_purge)(void *state, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise, void *arg,
                                       uint64_t *purged, char *err, size_t err_size);

    /* ---- ABI 1.7 ----
     * Transforms only, optional: the fill of a batch is over (every record
     * of it that reached this instance went through transform()), and the
     * sink writes and flushes that batch next. A transform whose notes of
     * what it passed must be on disk before the sink's flush (a sink that
     * stores its positions with its data can be ahead of the checkpoint
     * after a kill -9, and the records in between are then not replayed)
     * writes them here, once per batch, instead of at every record. Called
     * on the task's thread after each fill that ends normally (also of a
     * batch with no records), never concurrently with transform() calls of
     * the same instance, before the batch's write and before the next
     * batch's first transform() call. OK, or ERROR (+ err): the task fails
     * before the batch is written, and it is replayed after the restart.
     * The host reads it only from a descriptor whose struct_size holds it:
     * test with RDAPSYNC_HAS(rdapsync_plugin, desc, transform_batch_end). A
     * plugin learns that its host calls it from the first call. */
    rdapsync_status (*transform_batch_end)(void *state, char *err, size_t err_size);

    /* New fields are appended here (ABI minor + 1). */
} rdapsync_plugin;

/* The descriptor's options_set_end for the member `member_` of the config
 * struct `config_`, which must be an rdapsync_options_set. */
#define RDAPSYNC_OPTIONS_SET_IN(config_, member_) \
    .options_set_end = offsetof(config_, member_) + sizeof(rdapsync_options_set) + \
                       0 * sizeof(char[_Generic(((config_ *)0)->member_, rdapsync_options_set: 1, default: -1)])

/*
 * The transform's calls may overlap: the host may call transform() for two
 * records of the same instance at once, one on the task's thread and one on
 * its transform thread, and in any order across records (records still
 * reach the sink in source order). Set it when a call changes nothing but
 * its own record and reads nothing a call for another record changes: the
 * instance's state is read-only after open, and counters and logging go
 * through the host, whose calls are thread-safe. The host can then share
 * this transform's work between the two threads record by record, instead
 * of giving it to one of them whole (docs/architecture.md, "The transform
 * thread").
 */
#define RDAPSYNC_TRANSFORM_CONCURRENT 0x1u

/*
 * The transform's work per record is small against the host's parse of the
 * record's document (a hash and a lookup, say, not a rewrite of the
 * document). With batch.transform_thread: auto, a pipeline whose transforms
 * all set it runs them on the task's thread: handing every chunk of records
 * to a second thread and back would cost more CPU than that thread saves.
 * `true` still starts the thread. A host that does not know this bit
 * ignores it (the thread is chosen as before); a plugin loses nothing by
 * setting it on an older host.
 */
#define RDAPSYNC_TRANSFORM_LIGHT 0x2u

#define RDAPSYNC_DESCRIPTOR_HEADER \
    .struct_size = sizeof(rdapsync_plugin), .abi_major = RDAPSYNC_ABI_MAJOR, .abi_minor = RDAPSYNC_ABI_MINOR

/* The entry function's type and its one correct definition line. The
 * descriptor returned must be a static constant: the host never frees it. */
typedef const rdapsync_plugin *(*rdapsync_entry_fn)(const rdapsync_host *host);

RDAPSYNC_EXPORT const rdapsync_plugin *rdapsync_plugin_entry(const rdapsync_host *host);

#define RDAPSYNC_PLUGIN_ENTRY(host_param) \
    RDAPSYNC_EXPORT const rdapsync_plugin *rdapsync_plugin_entry(const rdapsync_host *host_param)

#endif
