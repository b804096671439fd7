/*
 * History tables: which versions of a batch a history table gets, the SQL
 * shared by the stores for them, and the option that names the table
 * (sinktk.h, "History tables").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

static bool rejected(const rdapsync_sinktk_rejects *rejects, const rdapsync_record *record)
{
    for (size_t i = 0; rejects && i < rejects->count; i++)
        if (rejects->items[i].record == record)
            return true;
    return false;
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

int rdapsync_sinktk_history_each(const rdapsync_sinktk_plan *plan, const rdapsync_sinktk_rejects *rejects,
                                 int (*fn)(const rdapsync_record *record, bool last, void *opaque), void *opaque)
{
    for (size_t r = 0; r < plan->count; r++) {
        const rdapsync_sinktk_row *row = &plan->rows[r];
        /* The key's older records follow the row's in sorted_ (version
         * descending): the chain is [older_, end of the key). */
        size_t first = row->older_, end = first;
        while (first != SIZE_MAX && end < plan->sorted_count_ && same_key(plan->sorted_[end], row->record))
            end++;
        bool own = !rejected(rejects, row->record);
        for (size_t i = end; first != SIZE_MAX && i-- > first;) {
            const rdapsync_record *older = plan->sorted_[i];
            if (rejected(rejects, older))
                continue;
            int rc = fn(older, !own && i == first, opaque);
            if (rc)
                return rc;
        }
        if (own) {
            int rc = fn(row->record, true, opaque);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static char *format(const char *fmt, ...) RDAPSYNC_PRINTF(1, 2);

static char *format(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out)
        vsnprintf(out, (size_t)n + 1, fmt, again);
    va_end(again);
    return out;
}

char *rdapsync_sinktk_history_close_sql(const char *table, const char *key, const char *keys)
{
    return format("UPDATE %1$s AS cur SET valid_to = (SELECT MIN(n.valid_from) FROM %1$s n WHERE n.%2$s = cur.%2$s "
                  "AND (n.valid_from, n.origin, n.seq) > (cur.valid_from, cur.origin, cur.seq)) "
                  "WHERE cur.%2$s %3$s",
                  table, key, keys);
}

char *rdapsync_sinktk_history_insert_head(const char *table, const char *key)
{
    return format("INSERT INTO %s (%s, valid_from, origin, seq, deleted, doc, retention_until) VALUES ", table, key);
}

const char *rdapsync_sinktk_retention_until(const rdapsync_host *host, const rdapsync_value *doc)
{
    const rdapsync_json_api *j = host->json;
    if (!doc || j->type(doc) != RDAPSYNC_JSON_OBJECT)
        return NULL;
    const rdapsync_value *meta = j->object_get(doc, "rdapsync");
    return meta ? j->string_value(j->object_get(meta, "retention_until")) : NULL;
}

rdapsync_status rdapsync_sinktk_history_option(const rdapsync_host *host, const char *history_json, int mode,
                                               const char *data_table, const char *positions_table,
                                               int (*compare)(const char *, const char *), char **table, char *err,
                                               size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    char reason[256];
    *table = NULL;
    if (!history_json)
        return RDAPSYNC_OK;
    rdapsync_value *v = j->parse(history_json, strlen(history_json), reason, sizeof reason);
    rdapsync_value *name = v && j->type(v) == RDAPSYNC_JSON_OBJECT ? j->object_get(v, "table") : NULL;
    rdapsync_status status = RDAPSYNC_ERROR;
    if (!name || j->type(name) != RDAPSYNC_JSON_STRING || !j->string_length(name) || j->object_size(v) != 1) {
        snprintf(err, err_size, "@history: history is written { table: NAME }");
    } else if (mode != RDAPSYNC_SINKTK_UPSERT) {
        snprintf(err, err_size, "@history: history needs mode upsert (an append-mode table already keeps every "
                 "version)");
    } else if (compare(j->string_value(name), data_table) == 0 ||
               (positions_table && compare(j->string_value(name), positions_table) == 0)) {
        snprintf(err, err_size, "@history.table: the history table must differ from the data and positions tables");
    } else {
        *table = strdup(j->string_value(name));
        status = *table ? RDAPSYNC_OK : RDAPSYNC_ERROR;
        if (!*table)
            snprintf(err, err_size, "out of memory");
    }
    j->decref(v);
    return status;
}
