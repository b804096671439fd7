/*
 * The conflicts option (sinktk.h, "Multi-value register"): read once at
 * open, checked so that a mistake is named in the pipeline file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

const char *const rdapsync_sinktk_strategy_names[] = { "lww", "region-priority", "merge", "manual", NULL };

void rdapsync_sinktk_conflicts_free(rdapsync_sinktk_conflicts *conflicts)
{
    if (!conflicts)
        return;
    for (size_t i = 0; i < conflicts->region_count; i++)
        free(conflicts->regions[i]);
    free(conflicts->regions);
    free(conflicts->table);
    free(conflicts);
}

static bool known_member(const char *name)
{
    return strcmp(name, "strategy") == 0 || strcmp(name, "regions") == 0 || strcmp(name, "table") == 0;
}

static int strategy_of(const char *name)
{
    for (int i = 0; rdapsync_sinktk_strategy_names[i]; i++)
        if (strcmp(rdapsync_sinktk_strategy_names[i], name) == 0)
            return i;
    return -1;
}

/* Reads `regions` into c. 0, or -1 with err. */
static int read_regions(const rdapsync_json_api *j, const rdapsync_value *list, rdapsync_sinktk_conflicts *c,
                        char *err, size_t err_size)
{
    size_t n = j->array_size(list);
    if (j->type(list) != RDAPSYNC_JSON_ARRAY || n == 0) {
        snprintf(err, err_size, "@conflicts.regions: regions is a non-empty list of region names");
        return -1;
    }
    if (!(c->regions = calloc(n, sizeof(*c->regions)))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const rdapsync_value *item = j->array_get(list, i);
        if (j->type(item) != RDAPSYNC_JSON_STRING || !j->string_length(item)) {
            snprintf(err, err_size, "@conflicts.regions[%zu]: a region is a non-empty string", i);
            return -1;
        }
        for (size_t k = 0; k < c->region_count; k++) {
            if (strcmp(c->regions[k], j->string_value(item)) == 0) {
                snprintf(err, err_size, "@conflicts.regions[%zu]: region \"%s\" is listed twice", i, c->regions[k]);
                return -1;
            }
        }
        if (!(c->regions[c->region_count] = strdup(j->string_value(item)))) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
        c->region_count++;
    }
    return 0;
}

static int read_table(const rdapsync_json_api *j, const rdapsync_value *table, const char *data_table,
                      const char *positions_table, int (*compare)(const char *, const char *),
                      rdapsync_sinktk_conflicts *c, char *err, size_t err_size)
{
    if (table && (j->type(table) != RDAPSYNC_JSON_STRING || !j->string_length(table))) {
        snprintf(err, err_size, "@conflicts.table: the conflict log's table is a non-empty string");
        return -1;
    }
    size_t len = strlen(data_table) + sizeof "_conflicts";
    char *heads = malloc(len);
    c->table = table ? strdup(j->string_value(table)) : malloc(len);
    if (!c->table || !heads) {
        free(heads);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(heads, len, "%s_heads", data_table);
    if (!table)
        snprintf(c->table, len, "%s_conflicts", data_table);
    bool clash = compare(c->table, data_table) == 0 || compare(c->table, heads) == 0 ||
                 (positions_table && compare(c->table, positions_table) == 0);
    free(heads);
    if (clash) {
        snprintf(err, err_size, "@conflicts.table: the conflict log must differ from the data, heads and positions "
                                "tables");
        return -1;
    }
    return 0;
}

static int read_option(const rdapsync_json_api *j, const rdapsync_value *v, const char *data_table,
                       const char *positions_table, int (*compare)(const char *, const char *),
                       rdapsync_sinktk_conflicts *c, char *err, size_t err_size)
{
    for (rdapsync_value_iter *it = j->object_iter((rdapsync_value *)v); it;
         it = j->object_iter_next((rdapsync_value *)v, it)) {
        if (!known_member(j->object_iter_key(it))) {
            snprintf(err, err_size, "@conflicts.%s: unknown member (conflicts has strategy, regions, table)",
                     j->object_iter_key(it));
            return -1;
        }
    }
    const rdapsync_value *strategy = j->object_get(v, "strategy"), *regions = j->object_get(v, "regions");
    if (strategy) {
        int s = j->type(strategy) == RDAPSYNC_JSON_STRING ? strategy_of(j->string_value(strategy)) : -1;
        if (s < 0) {
            snprintf(err, err_size, "@conflicts.strategy: strategy is one of lww, region-priority, merge, manual");
            return -1;
        }
        c->strategy = (rdapsync_sinktk_strategy)s;
    }
    bool priority = c->strategy == RDAPSYNC_SINKTK_REGION_PRIORITY;
    if (priority != (regions != NULL)) {
        snprintf(err, err_size, priority ? "@conflicts.regions: region-priority needs regions: [first, second, ...]"
                                         : "@conflicts.regions: regions is for strategy region-priority only");
        return -1;
    }
    if (regions && read_regions(j, regions, c, err, err_size) != 0)
        return -1;
    return read_table(j, j->object_get(v, "table"), data_table, positions_table, compare, c, err, err_size);
}

rdapsync_status rdapsync_sinktk_conflicts_option(const rdapsync_host *host, const char *json, int mode,
                                                 const char *data_table, const char *positions_table,
                                                 int (*compare)(const char *, const char *),
                                                 rdapsync_sinktk_conflicts **out, char *err, size_t err_size)
{
    const rdapsync_json_api *j = host->json;
    char reason[256];
    *out = NULL;
    if (!json)
        return RDAPSYNC_OK;
    rdapsync_value *v = j->parse(json, strlen(json), reason, sizeof reason);
    rdapsync_sinktk_conflicts *c = calloc(1, sizeof(*c));
    int rc = -1;
    if (!c)
        snprintf(err, err_size, "out of memory");
    else if (!v || j->type(v) != RDAPSYNC_JSON_OBJECT)
        snprintf(err, err_size, "@conflicts: conflicts is written { strategy: NAME, regions: [..], table: NAME }");
    else if (mode != RDAPSYNC_SINKTK_UPSERT)
        snprintf(err, err_size, "@conflicts: conflicts needs mode upsert (one row per key)");
    else
        rc = read_option(j, v, data_table, positions_table, compare, c, err, err_size);
    j->decref(v);
    if (rc != 0) {
        rdapsync_sinktk_conflicts_free(c);
        return RDAPSYNC_ERROR;
    }
    *out = c;
    return RDAPSYNC_OK;
}
