/* Redactions counted per field class for the audit trail (redaction_tally.h). */
#include "runtime/redaction_tally.h"

#include <string.h>

#include <jansson.h>

#include "base/audit.h"

void redaction_tally_init(redaction_tally *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
}

void redaction_tally_destroy(redaction_tally *t) { pthread_mutex_destroy(&t->lock); }

void redaction_tally_add(redaction_tally *t, const char *name, uint64_t delta)
{
    static const size_t prefix = sizeof(REDACTION_COUNTER_PREFIX) - 1;
    if (!name || strncmp(name, REDACTION_COUNTER_PREFIX, prefix) != 0 || !name[prefix])
        return;
    pthread_mutex_lock(&t->lock);
    size_t i = 0;
    while (i < t->open.used && strcmp(t->open.names[i], name) != 0)
        i++;
    if (i == t->open.used && i < REDACTION_TALLY_SLOTS)
        t->open.names[t->open.used++] = name;
    if (i < t->open.used)
        t->open.counts[i] += delta;
    pthread_mutex_unlock(&t->lock);
}

void redaction_tally_take(redaction_tally *t, redaction_counts *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->open;
    memset(&t->open, 0, sizeof(t->open));
    pthread_mutex_unlock(&t->lock);
}

void redaction_counts_audit(const redaction_counts *c, const char *pipeline, int task, size_t records)
{
    if (!c->used || !audit_active())
        return;
    json_t *counts = json_object();
    for (size_t i = 0; i < c->used; i++)
        json_object_set_new(counts, c->names[i] + sizeof(REDACTION_COUNTER_PREFIX) - 1,
                            json_integer((json_int_t)c->counts[i]));
    audit_event("redaction", json_pack("{s:s, s:i, s:I, s:o}", "pipeline", pipeline, "task", task, "records",
                                       (json_int_t)records, "counts", counts));
}
