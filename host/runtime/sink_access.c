/* A sink instance opened only for its subject and retention calls. */
#include "runtime/sink_access.h"

#include <stdio.h>
#include <string.h>

#include "loader/context.h"
#include "loader/loader.h"

const plugin_block *sink_access_block(const pipeline_config *p, sink_access_target target)
{
    if (target == SINK_ACCESS_DEAD_LETTER)
        return p->has_dead_letter ? &p->dead_letter : NULL;
    return &p->sink;
}

bool sink_access_supports(const plugin_block *block, sink_access_op op)
{
    if (!block || !block->plugin || !loader_has_subject_ops(block->plugin->desc))
        return false;
    const rdapsync_plugin *d = block->plugin->desc;
    switch (op) {
    case SINK_ACCESS_FIND: return d->subject_find != NULL;
    case SINK_ACCESS_ERASE: return d->subject_erase != NULL;
    case SINK_ACCESS_PURGE: return d->retention_purge != NULL;
    }
    return false;
}

rdapsync_status sink_access_open(sink_access *access, const rdapsync_config *config, const pipeline_config *p,
                                 sink_access_target target, int task_index, char *err, size_t err_size)
{
    memset(access, 0, sizeof(*access));
    const plugin_block *block = sink_access_block(p, target);
    const char *role = target == SINK_ACCESS_DEAD_LETTER ? "dead-letter sink" : "sink";
    if (!block || !block->plugin) {
        snprintf(err, err_size, "pipeline '%s' has no %s", p->name, role);
        return RDAPSYNC_ERROR;
    }
    const rdapsync_plugin *desc = block->plugin->desc;
    access->ctx = context_new(p->name, task_index, p->tasks > 0 ? p->tasks : 1, RDAPSYNC_KIND_SINK, desc->name,
                              config->state_dir, NULL);
    if (!access->ctx) {
        snprintf(err, err_size, "pipeline '%s': out of memory", p->name);
        return RDAPSYNC_ERROR;
    }
    char reason[1024] = "";
    rdapsync_status status = desc->open(access->ctx, block->settings, &access->state, reason, sizeof(reason));
    if (status != RDAPSYNC_OK) {
        snprintf(err, err_size, "pipeline '%s': open %s %s: %s", p->name, role, desc->name,
                 reason[0] ? reason : rdapsync_status_str(status));
        context_free(access->ctx);
        memset(access, 0, sizeof(*access));
        return status == RDAPSYNC_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
    }
    access->block = block;
    access->desc = desc;
    access->opened = true;
    return RDAPSYNC_OK;
}

static rdapsync_status unsupported(const sink_access *access, const char *call, char *err, size_t err_size)
{
    snprintf(err, err_size, "sink %s does not support %s", access->desc ? access->desc->name : "(closed)", call);
    return RDAPSYNC_ERROR;
}

rdapsync_status sink_access_find(sink_access *access, const rdapsync_subject *subject, rdapsync_subject_found_fn fn,
                                 void *arg, char *err, size_t err_size)
{
    if (!access->opened || !sink_access_supports(access->block, SINK_ACCESS_FIND))
        return unsupported(access, "subject_find", err, err_size);
    return access->desc->subject_find(access->state, subject, fn, arg, err, err_size);
}

rdapsync_status sink_access_erase(sink_access *access, const rdapsync_subject *subject,
                                  rdapsync_subject_rewrite_fn fn, void *arg, uint64_t *changed, char *err,
                                  size_t err_size)
{
    *changed = 0;
    if (!access->opened || !sink_access_supports(access->block, SINK_ACCESS_ERASE))
        return unsupported(access, "subject_erase", err, err_size);
    return access->desc->subject_erase(access->state, subject, fn, arg, changed, err, err_size);
}

rdapsync_status sink_access_purge(sink_access *access, int64_t now_ms, rdapsync_subject_rewrite_fn anonymise,
                                  void *arg, uint64_t *purged, char *err, size_t err_size)
{
    *purged = 0;
    if (!access->opened || !sink_access_supports(access->block, SINK_ACCESS_PURGE))
        return unsupported(access, "retention_purge", err, err_size);
    return access->desc->retention_purge(access->state, now_ms, anonymise, arg, purged, err, err_size);
}

void sink_access_close(sink_access *access)
{
    if (access->opened && access->desc->close)
        access->desc->close(access->state);
    context_free(access->ctx);
    memset(access, 0, sizeof(*access));
}

int sink_access_parse_subject(char *text, rdapsync_subject *out, char *err, size_t err_size)
{
    static const char *const kinds[] = {"email", "handle", "name", "phone"};
    char *colon = text ? strchr(text, ':') : NULL;
    if (colon && colon[1]) {
        *colon = '\0';
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (strcmp(text, kinds[i]) == 0) {
                out->kind = kinds[i];
                out->value = colon + 1;
                return 0;
            }
        *colon = ':';
    }
    snprintf(err, err_size, "a subject is email:VALUE, handle:VALUE, name:VALUE or phone:VALUE");
    return -1;
}
