/* A task's retention purge of its own stores (task_retention.h). */
#include "runtime/task_retention.h"

#include <time.h>

#include <jansson.h>

#include "base/audit.h"
#include "base/log.h"
#include "base/retention_metrics.h"
#include "loader/loader.h"
#include "runtime/doc_redactor.h"
#include "runtime/task_shared.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void task_retention_start(struct task *t)
{
    t->retention_due_ms = mono_ms() + t->pipeline->retention_interval_ms;
}

/* One store; appends its outcome to sinks. */
static void purge(struct task *t, instance *inst, const char *store, doc_redactor *redactor, uint64_t *total,
                  json_t *sinks, bool *complete)
{
    char err[TASK_ERR_SIZE] = "";
    uint64_t count = 0;
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!inst->opened)
        return;
    if (!loader_has_subject_ops(inst->desc) || !inst->desc->retention_purge)
        snprintf(err, sizeof(err), "the %s plugin cannot purge", inst->desc->name);
    else
        status = inst->desc->retention_purge(inst->state, wall_ms(), redactor ? doc_redactor_rewrite : NULL,
                                             redactor, &count, err, sizeof(err));
    if (status == RDAPSYNC_OK)
        task_log(t, count ? RDAPSYNC_LOG_INFO : RDAPSYNC_LOG_DEBUG, inst, "retention: %s %llu document%s",
                 redactor ? "anonymised" : "purged", (unsigned long long)count, count == 1 ? "" : "s");
    else
        task_log(t, RDAPSYNC_LOG_ERROR, inst, "retention: %s", task_reason(err));
    *complete = *complete && status == RDAPSYNC_OK;
    *total += count;
    json_array_append_new(sinks, json_pack("{s:s, s:s, s:s}", "store", store, "plugin", inst->desc->name, "outcome",
                                           status == RDAPSYNC_OK ? "done" : "failed"));
}

void task_retention_tick(struct task *t)
{
    const pipeline_config *p = t->pipeline;
    if (!p->has_retention || mono_ms() < t->retention_due_ms)
        return;
    doc_redactor redactor;
    bool anonymise = p->retention_anonymise && t->suppress.opened &&
                     doc_redactor_attach(&redactor, t->suppress.desc, t->suppress.state) == 0;
    uint64_t total = 0;
    bool complete = !(p->retention_anonymise && !anonymise);
    json_t *sinks = json_array();
    purge(t, &t->sink, "sink", anonymise ? &redactor : NULL, &total, sinks, &complete);
    purge(t, &t->dead_letter, "dead_letter", anonymise ? &redactor : NULL, &total, sinks, &complete);
    if (anonymise)
        doc_redactor_detach(&redactor);
    if (total)
        retention_metrics_add(p->name, total);
    audit_event("retention", json_pack("{s:s, s:s, s:i, s:I, s:b, s:o}", "trigger", "interval", "pipeline", p->name,
                                       "task", t->index, "purged", (json_int_t)total, "complete", complete, "sinks",
                                       sinks));
    /* From the end of this run: a slow purge does not run back to back. */
    t->retention_due_ms = mono_ms() + p->retention_interval_ms;
}
