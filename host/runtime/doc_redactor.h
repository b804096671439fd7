/*
 * A stored document rewritten by a redact transform instance outside any
 * task: how `rdapsync erase` redacts, instead of deleting, in the stores of
 * a pipeline that redacts (docs/compliance.md). The instance is the
 * pipeline's compliance.suppression block (the `suppress` policy).
 */
#ifndef RDAPSYNC_HOST_DOC_REDACTOR_H
#define RDAPSYNC_HOST_DOC_REDACTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "config/config.h"

typedef struct doc_redactor {
    const rdapsync_plugin *desc; /* borrowed */
    rdapsync_ctx *ctx;           /* owned */
    void *state;
    rdapsync_batch *batch; /* owned: the one record being rewritten */
    char err[512];         /* why the last rewrite failed */
} doc_redactor;

/* Opens `block` (a redact transform) for pipeline p. 0, or -1 with err. */
int doc_redactor_open(doc_redactor *r, const rdapsync_config *config, const pipeline_config *p,
                      const plugin_block *block, char *err, size_t err_size);
void doc_redactor_close(doc_redactor *r);
/* The same over an instance already open (a task's suppress instance):
 * r borrows desc and state; doc_redactor_detach() frees only its batch. */
int doc_redactor_attach(doc_redactor *r, const rdapsync_plugin *desc, void *state);
void doc_redactor_detach(doc_redactor *r);

/* An rdapsync_subject_rewrite_fn (plugin.h) with arg a doc_redactor: the
 * document redacted, its text allocated like the host's alloc(). */
int doc_redactor_rewrite(void *arg, const char *document, size_t len, char **out, size_t *out_len);

#endif
