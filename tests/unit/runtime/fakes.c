/* nftw() is an XSI extension. */
#define _XOPEN_SOURCE 700

#include "fakes.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

fake_world fake;

static const rdapsync_host *host(void) { return host_api_table(); }

static void event(const char *what, const char *who)
{
    if (fake.event_count < FAKE_MAX_EVENTS)
        snprintf(fake.events[fake.event_count++], sizeof(fake.events[0]), "%s %s", what, who);
}

/* ---- polls seen by the sinks (they run on another thread) ---- */

static pthread_mutex_t poll_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poll_cond = PTHREAD_COND_INITIALIZER;
static int64_t polled_from = -1; /* highest `next` a poll started with */

static void poll_started(int64_t next)
{
    pthread_mutex_lock(&poll_lock);
    if (next > polled_from)
        polled_from = next;
    pthread_cond_broadcast(&poll_cond);
    pthread_mutex_unlock(&poll_lock);
}

bool fake_wait_poll_from(int64_t offset, int seconds)
{
    struct timespec deadline;
    bool seen;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&poll_lock);
    while (polled_from < offset)
        if (pthread_cond_timedwait(&poll_cond, &poll_lock, &deadline) == ETIMEDOUT)
            break;
    seen = polled_from >= offset;
    pthread_mutex_unlock(&poll_lock);
    return seen;
}

/* ---- source ---- */

typedef struct source_state {
    const fake_source_cfg *cfg;
    int next;
    int poll_retries, commit_retries;
    pthread_t thread; /* of open: every other callback must run there too */
} source_state;

static void check_source_thread(const source_state *s)
{
    if (!pthread_equal(s->thread, pthread_self()))
        atomic_fetch_add(&fake.source_thread_changes, 1);
}

static rdapsync_status source_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const fake_source_cfg *cfg = config;
    int64_t offset;

    fake.open_calls++;
    if (cfg->open_error) {
        snprintf(err, err_size, "cannot open the fake source");
        return RDAPSYNC_ERROR;
    }
    source_state *s = calloc(1, sizeof(*s));
    s->cfg = cfg;
    s->poll_retries = cfg->poll_retries;
    s->commit_retries = cfg->commit_retries;
    s->thread = pthread_self();
    fake.start_offset = -1;
    if (host()->checkpoint_get(ctx, "s", 0, &offset)) {
        s->next = (int)offset;
        fake.start_offset = offset;
    }
    event("open", "source");
    *state = s;
    return RDAPSYNC_OK;
}

static void source_close(void *state)
{
    check_source_thread(state);
    event("close", "source");
    free(state);
}

static bool is_bad(const fake_source_cfg *cfg, int index)
{
    for (int i = 0; i < cfg->bad_count; i++)
        if (cfg->bad[i] == index)
            return true;
    return false;
}

static rdapsync_status source_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    source_state *s = state;
    const rdapsync_host *h = host();
    int added = 0;

    check_source_thread(s);
    poll_started(s->next);
    int outstanding = fake.handed_over - (int)fake.committed_offset;
    if (outstanding > fake.max_outstanding)
        fake.max_outstanding = outstanding;
    if (s->poll_retries > 0) {
        s->poll_retries--;
        snprintf(err, err_size, "fake source not ready");
        return RDAPSYNC_RETRY;
    }
    while (h->batch_room(batch) > 0 && (s->cfg->total < 0 || s->next < s->cfg->total) &&
           (s->cfg->per_poll == 0 || added < s->cfg->per_poll)) {
        char key[512];
        int n = snprintf(key, sizeof(key), "k%d", s->next);
        while (n < s->cfg->key_padding && n < (int)sizeof(key) - 1)
            key[n++] = 'x';
        key[n] = '\0';
        rdapsync_record *r = h->record_add(batch);
        if (!r)
            break;
        h->record_set_key(batch, r, key, (size_t)n);
        h->record_set_position(batch, r, "s", 0, s->next + 1);
        if (is_bad(s->cfg, s->next)) {
            char raw[64], reason[64];
            snprintf(raw, sizeof(raw), "bad-raw-%d", s->next);
            snprintf(reason, sizeof(reason), "fake.jsonl:%d: not JSON", s->next + 1);
            h->record_set_bad(batch, r, raw, strlen(raw), reason);
        } else {
            rdapsync_value *v = h->json->object_new();
            h->json->object_set(v, "n", h->json->integer_new(s->next));
            h->record_set_value(batch, r, v);
        }
        s->next++;
        added++;
        fake.handed_over++;
    }
    if (s->cfg->total >= 0 && s->next >= s->cfg->total)
        return RDAPSYNC_END;
    return RDAPSYNC_OK;
}

static rdapsync_status source_commit(void *state, const rdapsync_position *positions, size_t count, char *err,
                                     size_t err_size)
{
    source_state *s = state;
    check_source_thread(s);
    if (fake.commit_watch && fake.commits < FAKE_MAX_EVENTS)
        fake.durable_at_commit[fake.commits] = fake.commit_watch->durable;
    if (s->commit_retries > 0) {
        s->commit_retries--;
        snprintf(err, err_size, "fake commit not ready");
        return RDAPSYNC_RETRY;
    }
    for (size_t i = 0; i < count; i++)
        if (positions[i].stream && strcmp(positions[i].stream, "s") == 0 && positions[i].partition == 0)
            fake.committed_offset = positions[i].offset;
    if (fake.commits < FAKE_MAX_EVENTS)
        fake.commit_log[fake.commits] = fake.committed_offset;
    fake.commits++;
    return RDAPSYNC_OK;
}

const rdapsync_plugin fake_source_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "fake",
    .kind = RDAPSYNC_KIND_SOURCE,
    .version = "0",
    .description = "scripted test source",
    .config_size = sizeof(fake_source_cfg),
    .open = source_open,
    .close = source_close,
    .poll = source_poll,
    .commit = source_commit,
};

/* ---- transform ---- */

typedef struct transform_state {
    const fake_transform_cfg *cfg;
    atomic_int retries;
    atomic_int busy; /* this instance's callbacks running now */
    pthread_mutex_t lock;
    pthread_t threads[4]; /* the threads its calls ran on */
    int thread_count;
} transform_state;

static rdapsync_status transform_open(rdapsync_ctx *ctx, const void *config, void **state, char *err,
                                      size_t err_size)
{
    transform_state *s = calloc(1, sizeof(*s));
    s->cfg = config;
    atomic_init(&s->retries, s->cfg->retries);
    pthread_mutex_init(&s->lock, NULL);
    event("open", "transform");
    *state = s;
    return RDAPSYNC_OK;
}

static void transform_close(void *state)
{
    transform_state *s = state;
    event("close", "transform");
    pthread_mutex_destroy(&s->lock);
    free(state);
}

/* Notes the calling thread; fake.transform_threads keeps the most seen. */
static void note_thread(transform_state *s)
{
    pthread_t self = pthread_self();
    int i, seen;

    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->thread_count; i++)
        if (pthread_equal(s->threads[i], self))
            break;
    if (i == s->thread_count && s->thread_count < 4)
        s->threads[s->thread_count++] = self;
    seen = s->thread_count;
    pthread_mutex_unlock(&s->lock);
    for (int most = atomic_load(&fake.transform_threads);
         seen > most && !atomic_compare_exchange_weak(&fake.transform_threads, &most, seen);)
        ;
}

static rdapsync_status transform_one(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                     size_t err_size)
{
    transform_state *s = state;
    int left = atomic_load(&s->retries);
    while (left > 0 && !atomic_compare_exchange_weak(&s->retries, &left, left - 1))
        ;
    if (left > 0) {
        snprintf(err, err_size, "fake transform busy");
        return RDAPSYNC_RETRY;
    }
    if (s->cfg->error_key && record->key && strcmp(record->key, s->cfg->error_key) == 0) {
        snprintf(err, err_size, "$.n: not allowed");
        return RDAPSYNC_ERROR;
    }
    if (s->cfg->drop_key && record->key && strcmp(record->key, s->cfg->drop_key) == 0)
        return RDAPSYNC_DROP;
    host()->record_add_header(batch, record, "seen", "yes", 3);
    return RDAPSYNC_OK;
}

static rdapsync_status transform_record(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                        size_t err_size)
{
    transform_state *s = state;
    if (atomic_fetch_add(&s->busy, 1) != 0)
        atomic_fetch_add(&fake.transform_overlaps, 1);
    note_thread(s);
    rdapsync_status status = transform_one(state, batch, record, err, err_size);
    atomic_fetch_sub(&s->busy, 1);
    return status;
}

const rdapsync_plugin fake_transform_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "faketx",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "0",
    .description = "scripted test transform",
    .config_size = sizeof(fake_transform_cfg),
    .open = transform_open,
    .close = transform_close,
    .transform = transform_record,
};

const rdapsync_plugin fake_concurrent_transform_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "faketx",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "0",
    .description = "scripted test transform whose calls may overlap",
    .config_size = sizeof(fake_transform_cfg),
    .open = transform_open,
    .close = transform_close,
    .transform = transform_record,
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

const rdapsync_plugin fake_light_transform_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "faketx",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "0",
    .description = "scripted test transform that declares itself light",
    .config_size = sizeof(fake_transform_cfg),
    .open = transform_open,
    .close = transform_close,
    .transform = transform_record,
    .flags = RDAPSYNC_TRANSFORM_LIGHT,
};

static const rdapsync_plugin *transform_desc(const fake_transform_cfg *cfg)
{
    return cfg->concurrent ? &fake_concurrent_transform_desc
           : cfg->light    ? &fake_light_transform_desc
                           : &fake_transform_desc;
}

/* ---- sinks ---- */

typedef struct sink_state {
    const fake_sink_cfg *cfg;
    rdapsync_ctx *ctx;
    int write_retries, flush_retries;
    /* written since the last flush: copies */
    int pending;
    char *keys[FAKE_MAX_RECORDS], *errors[FAKE_MAX_RECORDS], *headers[FAKE_MAX_RECORDS], *raw[FAKE_MAX_RECORDS];
    const char *role;
    bool wrote;
    pthread_t thread; /* of the first write: flush and later writes must run there too */
} sink_state;

/* Around every write and flush: no two callbacks of one sink at once, and
 * all of them on one thread. */
static void sink_enter(sink_state *s)
{
    if (atomic_fetch_add(&s->cfg->store->busy, 1) != 0)
        atomic_fetch_add(&fake.sink_overlaps, 1);
    if (!s->wrote) {
        s->wrote = true;
        s->thread = pthread_self();
    } else if (!pthread_equal(s->thread, pthread_self())) {
        atomic_fetch_add(&fake.sink_thread_changes, 1);
    }
}

static void sink_leave(sink_state *s) { atomic_fetch_sub(&s->cfg->store->busy, 1); }

static void drop_pending(sink_state *s)
{
    for (int i = 0; i < s->pending; i++) {
        free(s->keys[i]);
        free(s->errors[i]);
        free(s->headers[i]);
        free(s->raw[i]);
    }
    s->pending = 0;
}

static rdapsync_status sink_open_as(const char *role, rdapsync_ctx *ctx, const void *config, void **state)
{
    sink_state *s = calloc(1, sizeof(*s));
    s->cfg = config;
    s->ctx = ctx;
    s->role = role;
    s->write_retries = s->cfg->write_retries;
    s->flush_retries = s->cfg->flush_retries;
    if (s->cfg->override_stream)
        host()->checkpoint_override(ctx, s->cfg->override_stream, 0, s->cfg->override_offset);
    event("open", role);
    *state = s;
    return RDAPSYNC_OK;
}

static rdapsync_status sink_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    return sink_open_as("sink", ctx, config, state);
}

static rdapsync_status dlq_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    return sink_open_as("dlq", ctx, config, state);
}

static void sink_close(void *state)
{
    sink_state *s = state;
    event("close", s->role);
    drop_pending(s);
    free(s);
}

static char *headers_text(const rdapsync_record *r)
{
    size_t size = 1;
    for (size_t i = 0; i < r->header_count; i++)
        size += strlen(r->headers[i].name) + r->headers[i].value_len + 2;
    char *out = calloc(1, size), *p = out;
    for (size_t i = 0; i < r->header_count; i++)
        p += sprintf(p, "%s=%s\n", r->headers[i].name, r->headers[i].value);
    return out;
}

static rdapsync_status sink_write_body(void *state, const rdapsync_batch *batch, char *err, size_t err_size);
static rdapsync_status sink_flush_body(void *state, char *err, size_t err_size);

static rdapsync_status sink_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    sink_enter(state);
    rdapsync_status status = sink_write_body(state, batch, err, err_size);
    sink_leave(state);
    return status;
}

static rdapsync_status sink_flush(void *state, char *err, size_t err_size)
{
    sink_enter(state);
    rdapsync_status status = sink_flush_body(state, err, err_size);
    sink_leave(state);
    return status;
}

static rdapsync_status sink_write_body(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    sink_state *s = state;
    fake_store *store = s->cfg->store;
    size_t n = host()->batch_count(batch);

    if (store->write_calls < FAKE_MAX_RECORDS)
        store->batch_sizes[store->write_calls] = (int)n;
    store->write_calls++;
    if (n > 0)
        store->written_to = host()->batch_get(batch, n - 1)->position.offset;
    drop_pending(s); /* a write after RETRY starts over */
    if (s->cfg->always_retry || s->write_retries > 0) {
        if (s->write_retries > 0)
            s->write_retries--;
        snprintf(err, err_size, "fake sink unavailable");
        return RDAPSYNC_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *r = host()->batch_get(batch, i);
        if (s->cfg->reject_key && r->key && strcmp(r->key, s->cfg->reject_key) == 0) {
            host()->reject(s->ctx, r, "value too long for column");
            continue;
        }
        int k = s->pending++;
        s->keys[k] = r->key ? strdup(r->key) : NULL;
        s->errors[k] = r->error ? strdup(r->error) : NULL;
        s->headers[k] = headers_text(r);
        s->raw[k] = r->raw ? strndup(r->raw, r->raw_len) : NULL;
        store->written++;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status sink_flush_body(void *state, char *err, size_t err_size)
{
    sink_state *s = state;
    fake_store *store = s->cfg->store;

    store->flush_calls++;
    if (s->cfg->flush_sleep_ms > 0)
        nanosleep(&(struct timespec){s->cfg->flush_sleep_ms / 1000, (long)(s->cfg->flush_sleep_ms % 1000) * 1000000L},
                  NULL);
    if (store->flush_calls <= s->cfg->flush_waits_for_poll && !fake_wait_poll_from(store->written_to, 30)) {
        snprintf(err, err_size, "the source was not polled for the next batch while the sink flushed");
        return RDAPSYNC_ERROR;
    }
    if (s->cfg->flush_error || store->flush_calls == s->cfg->flush_error_at) {
        snprintf(err, err_size, "disk full");
        return RDAPSYNC_ERROR;
    }
    if (s->flush_retries > 0 && store->flush_calls >= s->cfg->flush_retries_from) {
        s->flush_retries--;
        drop_pending(s); /* undo the partial work, as the SDK asks */
        snprintf(err, err_size, "fake flush timed out");
        return RDAPSYNC_RETRY;
    }
    for (int i = 0; i < s->pending; i++) {
        int d = store->durable++;
        store->keys[d] = s->keys[i];
        store->errors[d] = s->errors[i];
        store->headers[d] = s->headers[i];
        store->raw[d] = s->raw[i];
    }
    s->pending = 0;
    if (store->watch)
        store->watch_durable_at_flush = store->watch->durable;
    return RDAPSYNC_OK;
}

const rdapsync_plugin fake_sink_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "fakesink",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0",
    .description = "scripted test sink",
    .config_size = sizeof(fake_sink_cfg),
    .open = sink_open,
    .close = sink_close,
    .write = sink_write,
    .flush = sink_flush,
};

const rdapsync_plugin fake_dlq_desc = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "fakedlq",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0",
    .description = "scripted dead-letter sink",
    .config_size = sizeof(fake_sink_cfg),
    .open = dlq_open,
    .close = sink_close,
    .write = sink_write,
    .flush = sink_flush,
};

void fake_store_free(fake_store *store)
{
    for (int i = 0; i < store->durable; i++) {
        free(store->keys[i]);
        free(store->errors[i]);
        free(store->headers[i]);
        free(store->raw[i]);
    }
    memset(store, 0, sizeof(*store));
}

/* ---- pipeline ---- */

static void block(plugin_block *b, const rdapsync_plugin *desc, void *settings)
{
    loaded_plugin *lp = calloc(1, sizeof(*lp));
    lp->path = strdup("(in-process)");
    lp->desc = desc;
    b->name = strdup(desc->name);
    b->plugin = lp;
    b->settings = settings;
}

static void unblock(plugin_block *b)
{
    if (b->plugin) {
        free(((loaded_plugin *)b->plugin)->path);
        free((loaded_plugin *)b->plugin);
    }
    free(b->name);
}

pipeline_config *fake_pipeline(const char *name, fake_source_cfg *source, fake_transform_cfg *transform,
                               fake_sink_cfg *sink, fake_sink_cfg *dead_letter)
{
    pipeline_config *p = calloc(1, sizeof(*p));
    p->name = strdup(name);
    p->tasks = 1;
    block(&p->source, &fake_source_desc, source);
    if (transform) {
        p->transforms = calloc(1, sizeof(*p->transforms));
        p->transform_count = 1;
        block(&p->transforms[0], transform_desc(transform), transform);
    }
    block(&p->sink, &fake_sink_desc, sink);
    p->tolerance = TOLERANCE_ALL;
    if (dead_letter) {
        p->has_dead_letter = true;
        block(&p->dead_letter, &fake_dlq_desc, dead_letter);
    }
    p->batch_max_records = 10;
    p->batch_max_wait_ms = 3600 * 1000;
    p->batch_max_bytes = 0;
    p->batch_overlap = BATCH_OVERLAP_ON;
    p->retry_backoff_initial_ms = 1;
    p->retry_backoff_max_ms = 2;
    p->restart_max_failures = 3;
    p->restart_window_ms = 3600 * 1000;
    p->restart_backoff_initial_ms = 1;
    p->restart_backoff_max_ms = 2;
    return p;
}

void fake_pipeline_add_transform(pipeline_config *p, fake_transform_cfg *transform)
{
    p->transforms = realloc(p->transforms, (p->transform_count + 1) * sizeof(*p->transforms));
    memset(&p->transforms[p->transform_count], 0, sizeof(*p->transforms));
    block(&p->transforms[p->transform_count++], transform_desc(transform), transform);
}

void fake_pipeline_free(pipeline_config *p)
{
    if (!p)
        return;
    unblock(&p->source);
    for (size_t i = 0; i < p->transform_count; i++)
        unblock(&p->transforms[i]);
    free(p->transforms);
    unblock(&p->sink);
    if (p->has_dead_letter)
        unblock(&p->dead_letter);
    free(p->name);
    free(p);
}

char *fake_state_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(512);
    snprintf(dir, 512, "%s/rdapsync-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void fake_remove_tree(const char *dir)
{
    if (dir)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
