/*
 * The counters every keyed sink reports, under the same names, so that one
 * dashboard reads them all.
 */
#include <string.h>

#include <rdapsync/sinktk.h>

int rdapsync_sinktk_tally_add(rdapsync_sinktk_tally *tally, const char *name, uint64_t value)
{
    for (size_t i = 0; i < tally->extra_count; i++) {
        if (strcmp(tally->extra[i].name, name) == 0) {
            tally->extra[i].value += value;
            return 0;
        }
    }
    if (tally->extra_count == RDAPSYNC_SINKTK_TALLY_EXTRA)
        return -1;
    tally->extra[tally->extra_count].name = name;
    tally->extra[tally->extra_count].value = value;
    tally->extra_count++;
    return 0;
}

static void count(const rdapsync_host *host, rdapsync_ctx *ctx, const char *name, uint64_t value)
{
    if (value)
        host->counter_add(ctx, name, value);
}

void rdapsync_sinktk_report(const rdapsync_host *host, rdapsync_ctx *ctx, const rdapsync_sinktk_tally *tally,
                            const rdapsync_sinktk_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        host->reject(ctx, rejects->items[i].record, rejects->items[i].reason);
    count(host, ctx, "rows_applied", tally->applied);
    count(host, ctx, "rows_stale", tally->stale);
    count(host, ctx, "rows_rejected", rejects->count);
    count(host, ctx, "rows_already_committed", tally->already_stored);
    for (size_t i = 0; i < tally->extra_count; i++)
        count(host, ctx, tally->extra[i].name, tally->extra[i].value);
}
