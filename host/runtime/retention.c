/* The retention purge, once (retention.h). */
#include "runtime/retention.h"

#include <inttypes.h>
#include <string.h>

#include "base/audit.h"
#include "base/log.h"
#include "base/retention_metrics.h"
#include "runtime/doc_redactor.h"
#include "runtime/sink_access.h"

/* One store as task `task`; 0 or 1 (missed). */
static int purge_store(const rdapsync_config *config, const pipeline_config *p, sink_access_target target,
                       int task, int64_t now_ms, uint64_t *purged, json_t *sinks, FILE *report)
{
    const plugin_block *block = sink_access_block(p, target);
    const char *store = target == SINK_ACCESS_DEAD_LETTER ? "dead_letter" : "sink";
    char err[1024] = "";
    uint64_t count = 0;
    rdapsync_status status = RDAPSYNC_ERROR;
    doc_redactor redactor = { 0 };
    sink_access access;

    if (!block)
        return 0;
    if (!sink_access_supports(block, SINK_ACCESS_PURGE))
        snprintf(err, sizeof(err), "not covered (the %s plugin cannot purge)", block->name);
    else if (p->retention_anonymise && doc_redactor_open(&redactor, config, p, &p->suppress_block, err,
                                                         sizeof(err)) != 0)
        ;
    else if ((status = sink_access_open(&access, config, p, target, task, err, sizeof(err))) == RDAPSYNC_OK) {
        status = sink_access_purge(&access, now_ms, p->retention_anonymise ? doc_redactor_rewrite : NULL,
                                   p->retention_anonymise ? &redactor : NULL, &count, err, sizeof(err));
        sink_access_close(&access);
    }
    if (p->retention_anonymise && redactor.ctx)
        doc_redactor_close(&redactor);
    char line[1400];
    if (status == RDAPSYNC_OK)
        snprintf(line, sizeof(line), "pipeline %s, %s %s (task %d): %s %" PRIu64 " document%s", p->name,
                 target == SINK_ACCESS_DEAD_LETTER ? "dead-letter sink" : "sink", block->name, task,
                 p->retention_anonymise ? "anonymised" : "purged", count, count == 1 ? "" : "s");
    else
        snprintf(line, sizeof(line), "pipeline %s, %s %s (task %d): %s", p->name,
                 target == SINK_ACCESS_DEAD_LETTER ? "dead-letter sink" : "sink", block->name, task, err);
    if (report)
        fprintf(report, "%s\n", line);
    else if (status == RDAPSYNC_OK)
        log_write(RDAPSYNC_LOG_INFO, p->name, -1, NULL, NULL, "retention: %s", line);
    else
        log_write(RDAPSYNC_LOG_ERROR, p->name, -1, NULL, NULL, "retention: %s", line);
    *purged += count;
    if (count)
        retention_metrics_add(p->name, count);
    if (sinks)
        json_array_append_new(sinks, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "pipeline", p->name, "store",
                                               store, "plugin", block->name, "task", task, "outcome",
                                               status == RDAPSYNC_OK ? "done" : "failed", "count",
                                               (json_int_t)count));
    return status == RDAPSYNC_OK ? 0 : 1;
}

int retention_purge_pipeline(const rdapsync_config *config, const pipeline_config *p, int64_t now_ms,
                             uint64_t *purged, json_t *sinks, FILE *report)
{
    int missed = 0;
    for (int target = SINK_ACCESS_SINK; target <= SINK_ACCESS_DEAD_LETTER; target++)
        for (int task = 0; task < (p->tasks > 0 ? p->tasks : 1); task++)
            missed |= purge_store(config, p, (sink_access_target)target, task, now_ms, purged, sinks, report);
    return missed;
}

int retention_purge_all(const rdapsync_config *config, const char *trigger, int64_t now_ms, FILE *report)
{
    json_t *sinks = json_array();
    uint64_t purged = 0;
    int missed = 0;
    for (size_t i = 0; i < config->pipeline_count; i++)
        missed |= retention_purge_pipeline(config, &config->pipelines[i], now_ms, &purged, sinks, report);
    audit_event("retention", json_pack("{s:s, s:I, s:b, s:o}", "trigger", trigger, "purged", (json_int_t)purged,
                                       "complete", !missed, "sinks", sinks));
    return missed;
}
