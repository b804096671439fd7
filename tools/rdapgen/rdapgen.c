/* rdapgen: deterministic synthetic RDAP data for rdapsync's tests and benches.
 * Usage and output shapes: docs/generator.md. */
#include "rdapgen.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long long count;
    uint64_t seed;
    size_t size;
    int envelope, mixed, stats;
    double f_upd, f_del, f_dup, f_ooo;
    unsigned origins;
    long long keys;
    const char *expected, *out;
    unsigned regions; /* 0: one stream */
    double conflict_rate;
    const char *priority;
} cli_t;

enum { OP_NONE, OP_UPSERT, OP_DELETE };

/* A version of a key: ordered by (ts_ms, origin as bytes, seq). */
typedef struct {
    int64_t ts;
    uint32_t seq, rev;
    uint16_t origin;
    uint8_t op;
} version_t;

typedef struct {
    version_t best; /* greatest version emitted so far */
    uint32_t max_rev;
    int32_t alive_pos; /* index in the alive list, -1 if absent */
} keystate_t;

typedef struct {
    uint32_t key;
    version_t v;
} line_t;

enum { KIND_NEW, KIND_UPDATE, KIND_DELETE, KIND_DUP, KIND_OOO, KIND_COUNT };
static const char *const kind_names[] = {"new", "update", "delete", "duplicate", "out-of-order"};

#define RING 65536 /* duplicates repeat one of the last RING lines */

static char (*origin_names)[24];

static int vcmp(const version_t *a, const version_t *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    int c = strcmp(origin_names[a->origin], origin_names[b->origin]);
    if (c)
        return c < 0 ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "rdapgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static FILE *open_out(const char *path)
{
    FILE *f = path && strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f)
        die(strerror(errno), path);
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) || (f == stdout ? fflush(f) : fclose(f)) != 0)
        die("write failed", path ? path : "stdout");
}

static void write_line(FILE *f, jw_t *w)
{
    if (fwrite(w->buf, 1, w->len, f) != w->len || putc('\n', f) == EOF)
        die("write failed", NULL);
}

/* ---- --format rdap ---- */

static void run_rdap(const cli_t *c, const genopts_t *o, FILE *f)
{
    jw_t w;
    jw_init(&w);
    ident_t id;
    for (long long i = 0; i < c->count; i++) {
        rng_t r;
        rng_seed(&r, o->seed, (uint64_t)i, 0x7157, 0);
        int64_t ts = RG_BASE_MS - (int64_t)rng_below(&r, 400u * 86400u) * 1000 -
                     (int64_t)rng_below(&r, 1000);
        ident_make(o, (uint32_t)i, &id);
        jw_reset(&w);
        gen_object(&w, o, &id, 0, ts);
        write_line(f, &w);
    }
    jw_free(&w);
}

/* ---- --format envelope ---- */

typedef struct {
    const cli_t *c;
    const genopts_t *o;
    keystate_t *ks;
    uint32_t *alive, n_alive, next_key, nkeys;
    uint32_t *origin_seq;
    line_t *ring;
    uint64_t lines;   /* lines that a duplicate may repeat */
    long long line_no; /* all lines so far */
    rng_t r;
    int64_t clock;
    long long counts[KIND_COUNT];
    jw_t w;
    ident_t id;
} sched_t;

static void alive_add(sched_t *s, uint32_t k)
{
    if (s->ks[k].alive_pos >= 0)
        return;
    s->ks[k].alive_pos = (int32_t)s->n_alive;
    s->alive[s->n_alive++] = k;
}

static void alive_del(sched_t *s, uint32_t k)
{
    int32_t p = s->ks[k].alive_pos;
    if (p < 0)
        return;
    uint32_t last = s->alive[--s->n_alive];
    s->alive[p] = last;
    s->ks[last].alive_pos = p;
    s->ks[k].alive_pos = -1;
}

static void emit_envelope(sched_t *s, FILE *f, uint32_t key, const version_t *v)
{
    jw_t *w = &s->w;
    ident_make(s->o, key, &s->id);
    jw_reset(w);
    jw_obj(w);
    jw_kstr(w, "key", s->id.handle);
    jw_kstr(w, "op", v->op == OP_DELETE ? "delete" : "upsert");
    jw_kint(w, "ts_ms", v->ts);
    jw_kstr(w, "origin", origin_names[v->origin]);
    jw_kint(w, "seq", v->seq);
    jw_key(w, "value");
    if (v->op == OP_DELETE)
        jw_null(w);
    else
        gen_object(w, s->o, &s->id, v->rev, v->ts);
    jw_end_obj(w);
    write_line(f, w);
}

/* A version newer than everything emitted for `key`; sometimes tied on
 * ts_ms so that origin and seq have to break the tie. */
static version_t newer_version(sched_t *s, uint32_t key, uint8_t op)
{
    const version_t *best = &s->ks[key].best;
    version_t v = {s->clock, 0, s->ks[key].max_rev, 0, op};
    v.origin = (uint16_t)rng_below(&s->r, s->c->origins);
    if (best->op != OP_NONE) {
        if (rng_chance(&s->r, 0.05))
            v.ts = best->ts;
        if (v.ts == best->ts && strcmp(origin_names[v.origin], origin_names[best->origin]) < 0)
            v.origin = best->origin;
    }
    if (op == OP_UPSERT && best->op != OP_NONE)
        v.rev = ++s->ks[key].max_rev;
    v.seq = ++s->origin_seq[v.origin];
    return v;
}

static int choose_kind(sched_t *s)
{
    const cli_t *c = s->c;
    double u = rng_unit(&s->r);
    if ((u -= c->f_dup) < 0 && s->lines > 0)
        return KIND_DUP;
    if ((u -= c->f_del) < 0 && s->n_alive > 0)
        return KIND_DELETE;
    if ((u -= c->f_ooo) < 0 && s->next_key > 0)
        return KIND_OOO;
    if ((u -= c->f_upd) < 0 && s->next_key > 0)
        return KIND_UPDATE;
    /* A plain line: a new key, with new keys spread evenly over the run when
     * --keys is smaller than the number of plain lines still to come. */
    if (s->next_key == 0)
        return KIND_NEW;
    if (s->next_key >= s->nkeys)
        return KIND_UPDATE;
    double fresh = (double)(s->nkeys - s->next_key);
    double plain = (double)(c->count - s->line_no) *
                   (1.0 - c->f_dup - c->f_del - c->f_ooo - c->f_upd);
    if (plain <= fresh)
        return KIND_NEW;
    return rng_unit(&s->r) < fresh / plain ? KIND_NEW : KIND_UPDATE;
}

static void envelope_line(sched_t *s, FILE *f)
{
    int kind = choose_kind(s);
    uint32_t key;
    version_t v;
    s->clock += rng_below(&s->r, 60000); /* about 30 s a line on average */
    switch (kind) {
    case KIND_DUP: {
        uint64_t avail = s->lines < RING ? s->lines : RING;
        line_t *l = &s->ring[(s->lines - 1 - rng_below(&s->r, (uint32_t)avail)) % RING];
        emit_envelope(s, f, l->key, &l->v);
        s->counts[kind]++;
        return; /* a repeat is not a new line to repeat */
    }
    case KIND_NEW:
        key = s->next_key++;
        v = newer_version(s, key, OP_UPSERT);
        break;
    case KIND_DELETE:
        key = s->alive[rng_below(&s->r, s->n_alive)];
        v = newer_version(s, key, OP_DELETE);
        break;
    case KIND_UPDATE:
        key = s->n_alive > 0 && rng_chance(&s->r, 0.9) ? s->alive[rng_below(&s->r, s->n_alive)]
                                                        : rng_below(&s->r, s->next_key);
        v = newer_version(s, key, OP_UPSERT);
        break;
    default: { /* KIND_OOO: older than the key's greatest version */
        key = rng_below(&s->r, s->next_key);
        const version_t *best = &s->ks[key].best;
        v.ts = best->ts - 1 - (int64_t)rng_below(&s->r, 3u * 86400u * 1000u);
        v.op = rng_chance(&s->r, 0.15) ? OP_DELETE : OP_UPSERT;
        v.rev = rng_below(&s->r, s->ks[key].max_rev + 1);
        v.origin = (uint16_t)rng_below(&s->r, s->c->origins);
        v.seq = ++s->origin_seq[v.origin];
    }
    }
    keystate_t *k = &s->ks[key];
    if (vcmp(&v, &k->best) > 0 || k->best.op == OP_NONE) {
        if (kind == KIND_OOO)
            die("internal error: out-of-order line is newest", NULL);
        k->best = v;
        if (v.op == OP_UPSERT)
            alive_add(s, key);
        else
            alive_del(s, key);
    } else if (kind != KIND_OOO) {
        die("internal error: update is not newest", NULL);
    }
    emit_envelope(s, f, key, &v);
    line_t *slot = &s->ring[s->lines % RING];
    slot->key = key;
    slot->v = v;
    s->lines++;
    s->counts[kind]++;
}

typedef struct {
    const char *handle;
    uint32_t key;
} sortkey_t;

static int cmp_sortkey(const void *a, const void *b)
{
    return strcmp(((const sortkey_t *)a)->handle, ((const sortkey_t *)b)->handle);
}

/* Final state of a version-guarded sink, one line per live key, by key. */
static void write_expected(sched_t *s, const char *path)
{
    FILE *f = open_out(path);
    uint32_t n = 0;
    sortkey_t *sk = xcalloc(s->next_key, sizeof *sk);
    char (*handles)[64] = xcalloc(s->next_key, sizeof *handles);
    for (uint32_t k = 0; k < s->next_key; k++) {
        if (s->ks[k].best.op != OP_UPSERT)
            continue;
        ident_make(s->o, k, &s->id);
        memcpy(handles[n], s->id.handle, sizeof s->id.handle);
        sk[n].handle = handles[n];
        sk[n].key = k;
        n++;
    }
    qsort(sk, n, sizeof *sk, cmp_sortkey);
    jw_t w;
    jw_init(&w);
    for (uint32_t i = 0; i < n; i++) {
        const version_t *v = &s->ks[sk[i].key].best;
        ident_make(s->o, sk[i].key, &s->id);
        jw_reset(&s->w);
        gen_object(&s->w, s->o, &s->id, v->rev, v->ts);
        json_error_t err;
        json_t *doc = json_loadb(s->w.buf, s->w.len, 0, &err);
        if (!doc)
            die("internal error: generated JSON does not parse", err.text);
        char *val = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        if (!val)
            die("out of memory", NULL);
        jw_reset(&w);
        jw_obj(&w);
        jw_kstr(&w, "key", sk[i].handle);
        jw_kint(&w, "ts_ms", v->ts);
        jw_kstr(&w, "origin", origin_names[v->origin]);
        jw_kint(&w, "seq", v->seq);
        jw_key(&w, "value");
        jw_raw(&w, val, strlen(val));
        jw_end_obj(&w);
        write_line(f, &w);
        free(val);
    }
    jw_free(&w);
    free(handles);
    free(sk);
    close_out(f, path);
}

static void run_envelope(const cli_t *c, const genopts_t *o, FILE *f)
{
    sched_t s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.o = o;
    /* keys beyond --count could never be used */
    s.nkeys = (uint32_t)(c->keys < c->count ? c->keys : c->count > 0 ? c->count : 1);
    s.ks = xcalloc(s.nkeys, sizeof *s.ks);
    for (uint32_t k = 0; k < s.nkeys; k++)
        s.ks[k].alive_pos = -1;
    s.alive = xcalloc(s.nkeys, sizeof *s.alive);
    s.origin_seq = xcalloc(c->origins, sizeof *s.origin_seq);
    s.ring = xcalloc(RING, sizeof *s.ring);
    rng_seed(&s.r, o->seed, 0xe7e1, 0, 0);
    s.clock = RG_BASE_MS;
    jw_init(&s.w);
    for (s.line_no = 0; s.line_no < c->count; s.line_no++)
        envelope_line(&s, f);
    if (c->expected)
        write_expected(&s, c->expected);
    if (c->stats) {
        fprintf(stderr, "rdapgen: %lld lines:", c->count);
        for (int k = 0; k < KIND_COUNT; k++)
            fprintf(stderr, " %s=%lld", kind_names[k], s.counts[k]);
        fprintf(stderr, "; keys used=%u, live at end=%u\n", s.next_key, s.n_alive);
    }
    jw_free(&s.w);
    free(s.ks);
    free(s.alive);
    free(s.origin_seq);
    free(s.ring);
}

/* ---- command line ---- */

static void usage(FILE *f)
{
    fputs("usage: rdapgen [options]\n"
          "  -n, --count N           records (lines) to write (default 1000)\n"
          "  -s, --seed S            PRNG seed; same seed, same output (default 1)\n"
          "      --size BYTES        target size of a domain object (default 4096)\n"
          "      --format rdap|envelope   plain RDAP objects, or change envelopes (default rdap)\n"
          "      --classes domain|mixed   domains only, or also entity, nameserver, ip network, autnum\n"
          "  envelope only:\n"
          "      --updates F         fraction of lines updating an existing key (default 0)\n"
          "      --deletes F         fraction of lines deleting a live key (default 0)\n"
          "      --duplicates F      fraction of lines repeating an earlier line exactly (default 0)\n"
          "      --out-of-order F    fraction of lines carrying an older version of a key (default 0)\n"
          "      --origins N         spread lines over origins region-1..region-N (default 1)\n"
          "      --keys N            distinct keys at most (default: count)\n"
          "      --expected FILE     write the final state a version-guarded sink must hold\n"
          "      --stats             print line counts by kind to stderr\n"
          "  multi-region (envelope; -o names a directory):\n"
          "      --regions N         one stream per region, region-1..region-N, with version vectors\n"
          "      --conflict-rate P   chance that a write misses the other regions' latest changes (default 0)\n"
          "      --priority LIST     region order for the expected region-priority documents\n"
          "                          (comma-separated; default region-1,...,region-N)\n"
          "  -o, --output FILE       output file (default stdout)\n"
          "  -h, --help\n",
          f);
}

static long long parse_int(const char *s, const char *opt, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max)
        die("bad number for option", opt);
    return v;
}

static double parse_fraction(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        die("fraction must be between 0 and 1 for option", opt);
    return v;
}

enum {
    O_SIZE = 256, O_FORMAT, O_CLASSES, O_UPD, O_DEL, O_DUP, O_OOO, O_ORIGINS, O_KEYS, O_EXPECTED, O_STATS,
    O_REGIONS, O_CONFLICT, O_PRIORITY
};

static void parse_cli(int argc, char **argv, cli_t *c)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'},      {"seed", required_argument, NULL, 's'},
        {"size", required_argument, NULL, O_SIZE},    {"format", required_argument, NULL, O_FORMAT},
        {"classes", required_argument, NULL, O_CLASSES}, {"updates", required_argument, NULL, O_UPD},
        {"deletes", required_argument, NULL, O_DEL},  {"duplicates", required_argument, NULL, O_DUP},
        {"out-of-order", required_argument, NULL, O_OOO}, {"origins", required_argument, NULL, O_ORIGINS},
        {"keys", required_argument, NULL, O_KEYS},    {"expected", required_argument, NULL, O_EXPECTED},
        {"stats", no_argument, NULL, O_STATS},        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},             {"regions", required_argument, NULL, O_REGIONS},
        {"conflict-rate", required_argument, NULL, O_CONFLICT}, {"priority", required_argument, NULL, O_PRIORITY},
        {NULL, 0, NULL, 0}};
    memset(c, 0, sizeof *c);
    c->count = 1000;
    c->seed = 1;
    c->size = 4096;
    c->origins = 1;
    c->keys = -1;
    int envelope_only = 0, single_only = 0, regions_only = 0, opt;
    while ((opt = getopt_long(argc, argv, "n:s:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': c->count = parse_int(optarg, "--count", 0, 4000000000LL); break;
        case 's': {
            char *end;
            errno = 0;
            c->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end)
                die("bad number for option", "--seed");
            break;
        }
        case O_SIZE: c->size = (size_t)parse_int(optarg, "--size", 256, 64LL << 20); break;
        case O_FORMAT:
            if (strcmp(optarg, "rdap") && strcmp(optarg, "envelope"))
                die("--format must be rdap or envelope", optarg);
            c->envelope = strcmp(optarg, "envelope") == 0;
            break;
        case O_CLASSES:
            if (strcmp(optarg, "domain") && strcmp(optarg, "mixed"))
                die("--classes must be domain or mixed", optarg);
            c->mixed = strcmp(optarg, "mixed") == 0;
            break;
        case O_UPD: c->f_upd = parse_fraction(optarg, "--updates"), envelope_only = single_only = 1; break;
        case O_DEL: c->f_del = parse_fraction(optarg, "--deletes"), envelope_only = single_only = 1; break;
        case O_DUP: c->f_dup = parse_fraction(optarg, "--duplicates"), envelope_only = single_only = 1; break;
        case O_OOO: c->f_ooo = parse_fraction(optarg, "--out-of-order"), envelope_only = single_only = 1; break;
        case O_ORIGINS:
            c->origins = (unsigned)parse_int(optarg, "--origins", 1, 65535), envelope_only = single_only = 1;
            break;
        case O_KEYS: c->keys = parse_int(optarg, "--keys", 1, 4000000000LL), envelope_only = 1; break;
        case O_EXPECTED: c->expected = optarg, envelope_only = single_only = 1; break;
        case O_REGIONS:
            c->regions = (unsigned)parse_int(optarg, "--regions", 1, RG_MAX_REGIONS), envelope_only = 1;
            break;
        case O_CONFLICT: c->conflict_rate = parse_fraction(optarg, "--conflict-rate"), regions_only = 1; break;
        case O_PRIORITY: c->priority = optarg, regions_only = 1; break;
        case O_STATS: c->stats = 1; break;
        case 'o': c->out = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc)
        die("unexpected argument", argv[optind]);
    if (envelope_only && !c->envelope)
        die("--updates, --deletes, --duplicates, --out-of-order, --origins, --keys and --expected "
            "need --format envelope", NULL);
    if (regions_only && !c->regions)
        die("--conflict-rate and --priority need --regions", NULL);
    if (c->regions && single_only)
        die("--regions writes its own streams: --updates, --deletes, --duplicates, --out-of-order, --origins "
            "and --expected do not apply", NULL);
    if (c->regions && (!c->out || strcmp(c->out, "-") == 0))
        die("--regions needs -o DIRECTORY", NULL);
    if (c->f_upd + c->f_del + c->f_dup + c->f_ooo > 1.0 + 1e-9)
        die("the fractions add up to more than 1", NULL);
    if (c->keys < 0)
        c->keys = c->count > 0 ? c->count : 1;
    if (c->expected && c->out && strcmp(c->expected, c->out) == 0)
        die("--expected and --output name the same file", c->out);
}

int main(int argc, char **argv)
{
    cli_t c;
    parse_cli(argc, argv, &c);
    genopts_t o = {c.seed, c.mixed, c.size};
    if (c.regions) {
        regions_opts_t ro = {c.regions, c.conflict_rate, c.count, c.keys, c.out, c.priority, c.stats};
        run_regions(&ro, &o);
        return 0;
    }
    origin_names = xcalloc(c.origins, sizeof *origin_names);
    for (unsigned i = 0; i < c.origins; i++)
        sfmt(origin_names[i], sizeof origin_names[i], "region-%u", i + 1);
    FILE *f = open_out(c.out);
    if (c.envelope)
        run_envelope(&c, &o, f);
    else
        run_rdap(&c, &o, f);
    close_out(f, c.out);
    free(origin_names);
    return 0;
}
