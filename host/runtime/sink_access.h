/*
 * Reaching what a pipeline's sinks hold about a person, outside a running
 * task: a sink instance opened for the pipeline's config alone, then its
 * ABI 1.5 calls (subject_find, subject_erase, retention_purge; plugin.h).
 * `rdapsync erase`, `access` and `retention` are built on it.
 */
#ifndef RDAPSYNC_HOST_SINK_ACCESS_H
#define RDAPSYNC_HOST_SINK_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "config/config.h"

/* Which sink of a pipeline: its own, or its dead-letter sink (dead letters
 * are stores of documents too, and erasure must reach them). */
typedef enum sink_access_target { SINK_ACCESS_SINK = 0, SINK_ACCESS_DEAD_LETTER = 1 } sink_access_target;

/* What the sink can be asked. */
typedef enum sink_access_op { SINK_ACCESS_FIND = 0, SINK_ACCESS_ERASE = 1, SINK_ACCESS_PURGE = 2 } sink_access_op;

/* One opened sink instance. Zeroed = closed. */
typedef struct sink_access {
    const plugin_block *block;   /* borrowed from the config */
    const rdapsync_plugin *desc; /* borrowed from the registry */
    rdapsync_ctx *ctx;           /* owned */
    void *state;                 /* the plugin's */
    bool opened;
} sink_access;

/* The block `target` names in `p`, or NULL (no dead-letter sink). */
const plugin_block *sink_access_block(const pipeline_config *p, sink_access_target target);

/* Whether the block's plugin implements `op` (ABI 1.5 and the call set). */
bool sink_access_supports(const plugin_block *block, sink_access_op op);

/*
 * Opens the sink `target` of pipeline `p` (of `config`, for its state
 * directory) as task `task_index` of p->tasks: a sink with a store per
 * task (file {task}) is reached by opening each index in turn; a shared
 * store answers the later indexes with nothing left to do. The instance
 * writes nothing. OK (call sink_access_close), RETRY (the store is not
 * reachable now; nothing held) or ERROR (+ err naming the pipeline and
 * the sink; nothing held). Opening may create the sink's tables, as a run
 * would.
 */
rdapsync_status sink_access_open(sink_access *access, const rdapsync_config *config, const pipeline_config *p,
                                 sink_access_target target, int task_index, char *err, size_t err_size);

/* The three calls; ERROR with "not supported" when the plugin lacks it.
 * Arguments and answers as in plugin.h. */
rdapsync_status sink_access_find(sink_access *access, const rdapsync_subject *subject, rdapsync_subject_found_fn fn,
                                 void *arg, char *err, size_t err_size);
rdapsync_status sink_access_erase(sink_access *access, const rdapsync_subject *subject,
                                  rdapsync_subject_rewrite_fn fn, void *arg, uint64_t *changed, char *err,
                                  size_t err_size);
rdapsync_status sink_access_purge(sink_access *access, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise,
                                  void *arg, uint64_t *purged, char *err, size_t err_size);

/* Closes the instance and frees its context; safe on a zeroed struct. */
void sink_access_close(sink_access *access);

/* Parses "email:someone@example.net" (kind, a colon, a non-empty value)
 * into `out`, whose strings point into `text` after the colon is replaced
 * by a NUL (text is changed). 0, or -1 with err naming the kinds. */
int sink_access_parse_subject(char *text, rdapsync_subject *out, char *err, size_t err_size);

#endif
