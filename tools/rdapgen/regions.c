/* rdapgen --regions: per-region change streams with version vectors, and the
 * heads and visible documents a multi-value-register sink must end with
 * (docs/generator.md, "--regions"). */
#include "rdapgen.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One write: its version (ts_ms, origin = region, seq), the revision of
 * the document it carries and its vector (one counter per region index). */
typedef struct {
    int64_t ts;
    uint32_t seq, rev;
    uint32_t drop; /* 0, or which droppable top-level member the document lacks (see write_doc) */
    uint16_t region;
    int present;
} write_t;

typedef struct {
    const regions_opts_t *ro;
    const genopts_t *o;
    unsigned n;          /* regions */
    char (*names)[24];   /* region-1 .. region-N */
    unsigned *by_name;   /* region indexes in bytewise name order */
    unsigned *rank;      /* region-priority rank per region index */
    int64_t *skew;       /* each region's clock offset, ms */
    uint32_t *seq;       /* lines written per region */
    uint32_t nkeys, next_key;
    /* Per key: the heads (at most one per region: a region's later write
     * always dominates its earlier ones) and their vectors, and what each
     * region last knew of the key (its vector). */
    write_t *heads;      /* nkeys * n */
    uint32_t *head_vv;   /* nkeys * n * n */
    uint32_t *known;     /* nkeys * n * n */
    uint32_t *max_rev;   /* nkeys */
    long long conflict_writes, lines;
    rng_t r;
    jw_t w, doc;
    ident_t id;
} regions_t;

static void rg_die(const char *msg, const char *arg)
{
    fprintf(stderr, "rdapgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *rg_calloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        rg_die("out of memory", NULL);
    return p;
}

static regions_t *sort_ctx; /* qsort has no context argument in C11 */

static int by_name_cmp(const void *a, const void *b)
{
    return strcmp(sort_ctx->names[*(const unsigned *)a], sort_ctx->names[*(const unsigned *)b]);
}

static write_t *head(regions_t *g, uint32_t key, unsigned region) { return &g->heads[(size_t)key * g->n + region]; }

static uint32_t *head_vv(regions_t *g, uint32_t key, unsigned region)
{
    return &g->head_vv[((size_t)key * g->n + region) * g->n];
}

static uint32_t *known(regions_t *g, uint32_t key, unsigned region)
{
    return &g->known[((size_t)key * g->n + region) * g->n];
}

/* a <= b everywhere */
static int vv_le(const uint32_t *a, const uint32_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (a[i] > b[i])
            return 0;
    return 1;
}

/* The version order of rdapsync_version_compare: ts, origin bytewise, seq. */
static int lww_cmp(const regions_t *g, const write_t *a, const write_t *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    int c = strcmp(g->names[a->region], g->names[b->region]);
    if (c)
        return c < 0 ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void write_vv(regions_t *g, jw_t *w, const uint32_t *vv)
{
    jw_obj(w);
    for (unsigned i = 0; i < g->n; i++) {
        unsigned region = g->by_name[i];
        if (vv[region])
            jw_kint(w, g->names[region], vv[region]);
    }
    jw_end_obj(w);
}

/* The document a write carries, parsed (caller decrefs): version `rev`
 * of the key, less one top-level member when `drop` says so, so that
 * concurrent heads differ in which members they have and the merge
 * strategy has something to merge. The key's identity members stay. */
static json_t *write_doc(regions_t *g, uint32_t key, const write_t *wr)
{
    static const char *const keep[] = { "objectClassName", "handle", "ldhName", "events" };
    json_error_t err;
    ident_make(g->o, key, &g->id);
    jw_reset(&g->doc);
    gen_object(&g->doc, g->o, &g->id, wr->rev, wr->ts);
    json_t *doc = json_loadb(g->doc.buf, g->doc.len, 0, &err);
    if (!doc)
        rg_die("internal error: generated JSON does not parse", err.text);
    if (!wr->drop)
        return doc;
    const char *names[64];
    size_t count = 0;
    const char *name;
    json_t *value;
    json_object_foreach(doc, name, value) {
        int kept = 0;
        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
            kept |= strcmp(name, keep[i]) == 0;
        if (!kept && count < 64)
            names[count++] = name;
    }
    (void)value;
    if (count)
        json_object_del(doc, names[wr->drop % count]);
    return doc;
}

/* One write of `key` by `region`. It normally has seen every head of the
 * key (its vector is their merge, plus one of its own); with probability
 * --conflict-rate it has seen only what the region knew at its last write
 * or catch-up, so it may be concurrent with the others' later writes. */
static void region_write(regions_t *g, FILE *out, uint32_t key, unsigned region, int64_t clock)
{
    unsigned n = g->n;
    uint32_t vv[64];
    uint32_t *mine = known(g, key, region);

    if (rng_chance(&g->r, g->ro->conflict_rate)) {
        memcpy(vv, mine, n * sizeof(*vv));
    } else {
        memset(vv, 0, n * sizeof(*vv));
        for (unsigned h = 0; h < n; h++) {
            if (!head(g, key, h)->present)
                continue;
            const uint32_t *hv = head_vv(g, key, h);
            for (unsigned i = 0; i < n; i++)
                if (hv[i] > vv[i])
                    vv[i] = hv[i];
        }
    }
    vv[region]++;
    memcpy(mine, vv, n * sizeof(*vv));

    write_t wr = { clock + g->skew[region], ++g->seq[region], g->max_rev[key]++, 0, (uint16_t)region, 1 };
    if (rng_chance(&g->r, 0.25))
        wr.drop = 1 + (uint32_t)rng_below(&g->r, 1u << 20);
    unsigned remaining = 0;
    for (unsigned h = 0; h < n; h++) {
        write_t *hd = head(g, key, h);
        if (hd->present && vv_le(head_vv(g, key, h), vv, n))
            hd->present = 0;
        remaining += hd->present;
    }
    if (remaining)
        g->conflict_writes++;
    *head(g, key, region) = wr;
    memcpy(head_vv(g, key, region), vv, n * sizeof(*vv));

    jw_t *w = &g->w;
    ident_make(g->o, key, &g->id);
    jw_reset(w);
    jw_obj(w);
    jw_kstr(w, "key", g->id.handle);
    jw_kstr(w, "op", "upsert");
    jw_kint(w, "ts_ms", wr.ts);
    jw_kstr(w, "origin", g->names[region]);
    jw_kint(w, "seq", wr.seq);
    jw_key(w, "vv");
    write_vv(g, w, vv);
    jw_key(w, "value");
    json_t *doc = write_doc(g, key, &wr);
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        rg_die("out of memory", NULL);
    jw_raw(w, text, strlen(text));
    free(text);
    json_decref(doc);
    jw_end_obj(w);
    if (fwrite(w->buf, 1, w->len, out) != w->len || putc('\n', out) == EOF)
        rg_die("write failed", g->names[region]);
}

static void put_canonical(jw_t *w, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        rg_die("out of memory", NULL);
    jw_raw(w, text, strlen(text));
    free(text);
}

typedef struct {
    const write_t *w;
    const uint32_t *vv;
    json_t *doc;
} head_ref;

static regions_t *lww_ctx; /* qsort has no context argument in C11 */

static int head_lww_cmp(const void *a, const void *b)
{
    return lww_cmp(lww_ctx, ((const head_ref *)a)->w, ((const head_ref *)b)->w);
}

/* One expected line: the key's heads by version, then the visible document
 * under each strategy. */
static void expected_line(regions_t *g, FILE *f, uint32_t key, const char *handle)
{
    head_ref refs[64];
    unsigned count = 0;
    for (unsigned h = 0; h < g->n; h++) {
        write_t *hd = head(g, key, h);
        if (hd->present)
            refs[count++] = (head_ref){ hd, head_vv(g, key, h), write_doc(g, key, hd) };
    }
    lww_ctx = g;
    qsort(refs, count, sizeof(*refs), head_lww_cmp);

    const head_ref *lww = &refs[count - 1], *prio = lww;
    for (unsigned i = count; i-- > 0;)
        if (g->rank[refs[i].w->region] < g->rank[prio->w->region])
            prio = &refs[i];
    json_t *merged = json_object();
    for (unsigned i = count; i-- > 0;) {
        const char *name;
        json_t *value;
        json_object_foreach(refs[i].doc, name, value) {
            if (!json_object_get(merged, name))
                json_object_set(merged, name, value);
        }
    }

    jw_t *w = &g->w;
    jw_reset(w);
    jw_obj(w);
    jw_kstr(w, "key", handle);
    jw_key(w, "heads");
    jw_arr(w);
    for (unsigned i = 0; i < count; i++) {
        jw_obj(w);
        jw_key(w, "vv");
        write_vv(g, w, refs[i].vv);
        jw_kint(w, "ts_ms", refs[i].w->ts);
        jw_kstr(w, "origin", g->names[refs[i].w->region]);
        jw_kint(w, "seq", refs[i].w->seq);
        jw_key(w, "value");
        put_canonical(w, refs[i].doc);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_key(w, "visible");
    jw_obj(w);
    jw_key(w, "lww");
    put_canonical(w, lww->doc);
    jw_key(w, "merge");
    put_canonical(w, merged);
    jw_key(w, "region-priority");
    put_canonical(w, prio->doc);
    jw_key(w, "manual");
    put_canonical(w, lww->doc);
    jw_end_obj(w);
    jw_end_obj(w);
    if (fwrite(w->buf, 1, w->len, f) != w->len || putc('\n', f) == EOF)
        rg_die("write failed", "expected");
    json_decref(merged);
    for (unsigned i = 0; i < count; i++)
        json_decref(refs[i].doc);
}

typedef struct {
    char handle[64];
    uint32_t key;
} keyname_t;

static int keyname_cmp(const void *a, const void *b)
{
    return strcmp(((const keyname_t *)a)->handle, ((const keyname_t *)b)->handle);
}

static void write_expected(regions_t *g, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        rg_die(strerror(errno), path);
    keyname_t *names = rg_calloc(g->next_key, sizeof(*names));
    for (uint32_t k = 0; k < g->next_key; k++) {
        ident_make(g->o, k, &g->id);
        memcpy(names[k].handle, g->id.handle, sizeof(names[k].handle));
        names[k].key = k;
    }
    qsort(names, g->next_key, sizeof(*names), keyname_cmp);
    for (uint32_t i = 0; i < g->next_key; i++)
        expected_line(g, f, names[i].key, names[i].handle);
    free(names);
    if (ferror(f) || fclose(f) != 0)
        rg_die("write failed", path);
}

/* --priority: comma-separated region names; unlisted regions rank after
 * the listed ones (and are then ordered by lww among themselves). */
static void parse_priority(regions_t *g, const char *list)
{
    for (unsigned i = 0; i < g->n; i++)
        g->rank[i] = g->n + 1;
    if (!list) {
        for (unsigned i = 0; i < g->n; i++)
            g->rank[i] = i;
        return;
    }
    unsigned next = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        unsigned found = g->n;
        for (unsigned i = 0; i < g->n; i++)
            if (strlen(g->names[i]) == len && strncmp(g->names[i], p, len) == 0)
                found = i;
        if (found == g->n || g->rank[found] <= g->n)
            rg_die("--priority names an unknown or repeated region", list);
        g->rank[found] = next++;
        p += len;
        if (*p == ',')
            p++;
    }
}

void run_regions(const regions_opts_t *ro, const genopts_t *o)
{
    regions_t g;
    memset(&g, 0, sizeof(g));
    g.ro = ro;
    g.o = o;
    g.n = ro->regions;
    g.nkeys = (uint32_t)(ro->keys < ro->count ? ro->keys : ro->count > 0 ? ro->count : 1);
    g.names = rg_calloc(g.n, sizeof(*g.names));
    g.by_name = rg_calloc(g.n, sizeof(*g.by_name));
    g.rank = rg_calloc(g.n, sizeof(*g.rank));
    g.skew = rg_calloc(g.n, sizeof(*g.skew));
    g.seq = rg_calloc(g.n, sizeof(*g.seq));
    g.heads = rg_calloc((size_t)g.nkeys * g.n, sizeof(*g.heads));
    g.head_vv = rg_calloc((size_t)g.nkeys * g.n * g.n, sizeof(*g.head_vv));
    g.known = rg_calloc((size_t)g.nkeys * g.n * g.n, sizeof(*g.known));
    g.max_rev = rg_calloc(g.nkeys, sizeof(*g.max_rev));
    rng_seed(&g.r, o->seed, 0x4e6, g.n, 0);
    for (unsigned i = 0; i < g.n; i++) {
        sfmt(g.names[i], sizeof(g.names[i]), "region-%u", i + 1);
        g.by_name[i] = i;
        /* Clocks disagree by up to a minute and a half either way. */
        g.skew[i] = (int64_t)rng_below(&g.r, 180001) - 90000;
    }
    sort_ctx = &g;
    qsort(g.by_name, g.n, sizeof(*g.by_name), by_name_cmp);
    parse_priority(&g, ro->priority);

    if (mkdir(ro->dir, 0777) != 0 && errno != EEXIST)
        rg_die(strerror(errno), ro->dir);
    FILE **out = rg_calloc(g.n, sizeof(*out));
    for (unsigned i = 0; i < g.n; i++) {
        char path[4096];
        sfmt(path, sizeof(path), "%s/%s.jsonl", ro->dir, g.names[i]);
        if (!(out[i] = fopen(path, "wb")))
            rg_die(strerror(errno), path);
        setvbuf(out[i], NULL, _IOFBF, 1 << 20);
    }
    jw_init(&g.w);
    jw_init(&g.doc);
    int64_t clock = RG_BASE_MS;
    for (long long line = 0; line < ro->count; line++) {
        clock += rng_below(&g.r, 60000);
        unsigned region = rng_below(&g.r, g.n);
        uint32_t key;
        double fresh = (double)(g.nkeys - g.next_key), left = (double)(ro->count - line);
        if (g.next_key == 0 || (fresh > 0 && rng_unit(&g.r) < fresh / left))
            key = g.next_key++;
        else
            key = rng_below(&g.r, g.next_key);
        region_write(&g, out[region], key, region, clock);
        g.lines++;
    }
    for (unsigned i = 0; i < g.n; i++)
        if (ferror(out[i]) || fclose(out[i]) != 0)
            rg_die("write failed", g.names[i]);

    char path[4096];
    sfmt(path, sizeof(path), "%s/expected.jsonl", ro->dir);
    write_expected(&g, path);
    if (ro->stats) {
        unsigned long open_keys = 0;
        for (uint32_t k = 0; k < g.next_key; k++) {
            unsigned heads = 0;
            for (unsigned h = 0; h < g.n; h++)
                heads += head(&g, k, h)->present;
            open_keys += heads > 1;
        }
        fprintf(stderr, "rdapgen: %lld lines over %u regions; keys=%u; concurrent writes=%lld; keys with "
                        "concurrent heads at end=%lu\n",
                g.lines, g.n, g.next_key, g.conflict_writes, open_keys);
    }
    jw_free(&g.w);
    jw_free(&g.doc);
    free(out);
    free(g.names);
    free(g.by_name);
    free(g.rank);
    free(g.skew);
    free(g.seq);
    free(g.heads);
    free(g.head_vv);
    free(g.known);
    free(g.max_rev);
}
