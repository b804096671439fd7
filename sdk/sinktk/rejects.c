/*
 * Rejects collected during a write and reported once it succeeded: a
 * write answering RETRY is delivered again and would report them twice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

int rdapsync_sinktk_rejects_add(rdapsync_sinktk_rejects *rejects, const rdapsync_record *record, const char *fmt, ...)
{
    if (rejects->count == rejects->capacity) {
        size_t capacity = rejects->capacity ? rejects->capacity * 2 : 8;
        rdapsync_sinktk_reject *items = realloc(rejects->items, capacity * sizeof(*items));
        if (!items)
            return -1;
        rejects->items = items;
        rejects->capacity = capacity;
    }
    char reason[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof(reason), fmt, args);
    va_end(args);
    char *copy = strdup(reason);
    if (!copy)
        return -1;
    rejects->items[rejects->count++] = (rdapsync_sinktk_reject){ .record = record, .reason = copy };
    return 0;
}

void rdapsync_sinktk_rejects_clear(rdapsync_sinktk_rejects *rejects)
{
    for (size_t i = 0; i < rejects->count; i++)
        free(rejects->items[i].reason);
    rejects->count = 0;
}

void rdapsync_sinktk_rejects_free(rdapsync_sinktk_rejects *rejects)
{
    rdapsync_sinktk_rejects_clear(rejects);
    free(rejects->items);
    memset(rejects, 0, sizeof(*rejects));
}
