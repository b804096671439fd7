/* Stored documents through a redact instance (doc_redactor.h). */
#include "runtime/doc_redactor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/context.h"
#include "model/batch.h"
#include "model/batch_api.h"
#include "model/json_api.h"

int doc_redactor_open(doc_redactor *r, const rdapsync_config *config, const pipeline_config *p,
                      const plugin_block *block, char *err, size_t err_size)
{
    memset(r, 0, sizeof(*r));
    if (!block->plugin) {
        snprintf(err, err_size, "pipeline '%s': no redact transform to erase with", p->name);
        return -1;
    }
    r->desc = block->plugin->desc;
    r->ctx = context_new(p->name, 0, 1, RDAPSYNC_KIND_TRANSFORM, r->desc->name, config->state_dir, NULL);
    r->batch = batch_new(1);
    if (!r->ctx || !r->batch) {
        snprintf(err, err_size, "out of memory");
        doc_redactor_close(r);
        return -1;
    }
    if (r->desc->open(r->ctx, block->settings, &r->state, err, err_size) != RDAPSYNC_OK) {
        r->desc = NULL; /* nothing to close */
        doc_redactor_close(r);
        return -1;
    }
    return 0;
}

void doc_redactor_close(doc_redactor *r)
{
    if (r->desc && r->desc->close)
        r->desc->close(r->state);
    batch_free(r->batch);
    context_free(r->ctx);
    memset(r, 0, sizeof(*r));
}

int doc_redactor_attach(doc_redactor *r, const rdapsync_plugin *desc, void *state)
{
    memset(r, 0, sizeof(*r));
    r->desc = desc;
    r->state = state;
    return (r->batch = batch_new(1)) ? 0 : -1;
}

void doc_redactor_detach(doc_redactor *r)
{
    batch_free(r->batch);
    memset(r, 0, sizeof(*r));
}

int doc_redactor_rewrite(void *arg, const char *document, size_t len, char **out, size_t *out_len)
{
    doc_redactor *r = arg;
    const rdapsync_json_api *j = json_api_table();
    int rc = -1;

    *out = NULL;
    batch_reset(r->batch);
    rdapsync_record *record = batch_record_add(r->batch);
    rdapsync_value *value = j->parse(document, len, r->err, sizeof(r->err));
    if (!record || !value || batch_record_set_value(r->batch, record, value) != 0) {
        j->decref(value);
        return -1;
    }
    if (r->desc->transform(r->state, r->batch, record, r->err, sizeof(r->err)) == RDAPSYNC_OK && record->value) {
        /* dump()'s buffer is the host's alloc(), which the sink frees. */
        *out = j->dump(record->value, 0, out_len);
        rc = *out ? 0 : -1;
    }
    batch_reset(r->batch);
    return rc;
}
