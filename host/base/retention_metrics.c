/* Retention purge counts per pipeline (retention_metrics.h). */
#include "base/retention_metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct purged_count {
    char *pipeline;
    uint64_t purged;
    struct purged_count *next;
} purged_count;

/* Kept for the process's life: a pipeline's count survives its reloads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static purged_count *head;

void retention_metrics_add(const char *pipeline, uint64_t purged)
{
    pthread_mutex_lock(&lock);
    purged_count *c = head;
    while (c && strcmp(c->pipeline, pipeline) != 0)
        c = c->next;
    if (!c && (c = calloc(1, sizeof(*c)))) {
        if ((c->pipeline = strdup(pipeline))) {
            c->next = head;
            head = c;
        } else {
            free(c);
            c = NULL;
        }
    }
    if (c)
        c->purged += purged;
    pthread_mutex_unlock(&lock);
}

void retention_metrics_render(FILE *out)
{
    fputs("# HELP rdapsync_retention_purged_total Documents past their retention deadline deleted or anonymised.\n"
          "# TYPE rdapsync_retention_purged_total counter\n",
          out);
    pthread_mutex_lock(&lock);
    for (purged_count *c = head; c; c = c->next)
        fprintf(out, "rdapsync_retention_purged_total{pipeline=\"%s\"} %" PRIu64 "\n", c->pipeline, c->purged);
    pthread_mutex_unlock(&lock);
}
