/*
 * The register inside the writer: the conflicts_open_<strategy> gauge
 * follows the conflicts opened and resolved, and starts again from the
 * store's conflict log at the next open (a restart), not from zero; a
 * store with rows_load gets a lone head without its document and is asked
 * for the row once, when a concurrent version arrives.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "context.h"
#include "records.h"

/* A store without transactions that keeps one key's heads and whether
 * its conflict log row is open. */
typedef struct heads_store {
    char *heads;
    char *row; /* the key's row document (rows_load), NULL: none */
    int rows_loaded;
    bool open;
} heads_store;

static rdapsync_status h_connect(void *store, bool first, char *err, size_t err_size)
{
    (void)store, (void)first, (void)err, (void)err_size;
    return RDAPSYNC_OK;
}

static void h_disconnect(void *store)
{
    (void)store;
}

static rdapsync_status h_apply(void *store, rdapsync_sinktk_plan *plan, rdapsync_sinktk_rejects *rejects,
                               rdapsync_sinktk_tally *tally, char *err, size_t err_size)
{
    (void)store, (void)rejects, (void)tally, (void)err, (void)err_size;
    cr_assert_eq(plan->count, 0, "records with vectors all go through the register");
    return RDAPSYNC_OK;
}

static rdapsync_status h_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    heads_store *s = store;
    cr_assert_eq(count, 1);
    if (s->heads) {
        keys[0].stored = strdup(s->heads);
        keys[0].stored_len = strlen(s->heads);
    }
    return RDAPSYNC_OK;
}

static rdapsync_status h_write(void *store, const rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                               size_t err_size)
{
    (void)err, (void)err_size;
    heads_store *s = store;
    cr_assert_eq(count, 1);
    free(s->heads);
    s->heads = strdup(keys[0].heads);
    free(s->row);
    s->row = keys[0].doc ? strdup(keys[0].doc) : NULL;
    if (keys[0].log != RDAPSYNC_SINKTK_LOG_NONE)
        s->open = keys[0].log == RDAPSYNC_SINKTK_LOG_OPEN;
    return RDAPSYNC_OK;
}

static rdapsync_status h_open_count(void *store, uint64_t *count, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    *count = ((heads_store *)store)->open;
    return RDAPSYNC_OK;
}

static rdapsync_status h_rows_load(void *store, rdapsync_sinktk_mvr_key *keys, size_t count, char *err,
                                   size_t err_size)
{
    (void)err, (void)err_size;
    heads_store *s = store;
    cr_assert_eq(count, 1);
    cr_assert(keys[0].need_row, "asked only for a key that needs its row");
    s->rows_loaded++;
    if (s->row) {
        keys[0].row_doc = strdup(s->row);
        keys[0].row_doc_len = strlen(s->row);
    }
    return RDAPSYNC_OK;
}

static const rdapsync_sinktk_store_ops heads_ops = {
    .connect = h_connect,
    .disconnect = h_disconnect,
    .apply = h_apply,
    .heads_load = h_load,
    .heads_write = h_write,
    .conflicts_open = h_open_count,
};

static const rdapsync_sinktk_store_ops rows_ops = {
    .connect = h_connect,
    .disconnect = h_disconnect,
    .apply = h_apply,
    .heads_load = h_load,
    .heads_write = h_write,
    .conflicts_open = h_open_count,
    .rows_load = h_rows_load,
};

static rdapsync_host spy;
static double gauge = -1;
static const char *gauge_name;

static void spy_gauge(rdapsync_ctx *ctx, const char *name, double value)
{
    (void)ctx;
    gauge_name = name;
    gauge = value;
}

static rdapsync_ctx *ctx;
static heads_store store;
static rdapsync_sinktk_conflicts conflicts = { .strategy = RDAPSYNC_SINKTK_MANUAL };
static rdapsync_sinktk_writer writer;
static char err[512];

static void setup(void)
{
    records_setup();
    spy = *host;
    spy.gauge_set = spy_gauge;
    gauge = -1;
    gauge_name = NULL;
    memset(&store, 0, sizeof(store));
    ctx = context_new("pipe", 0, 1, RDAPSYNC_KIND_SINK, "memory", NULL, NULL);
}

static void teardown(void)
{
    rdapsync_sinktk_writer_close(&writer);
    free(store.heads);
    free(store.row);
    context_free(ctx);
    records_teardown();
}

TestSuite(sinktk_mvr_writer, .init = setup, .fini = teardown);

static void open_writer_with(const rdapsync_sinktk_store_ops *ops)
{
    rdapsync_sinktk_writer_config config = {
        .host = &spy,
        .ctx = ctx,
        .ops = ops,
        .store = &store,
        .label = "memory sink",
        .mode = RDAPSYNC_SINKTK_UPSERT,
        .conflicts = &conflicts,
    };
    cr_assert_eq(rdapsync_sinktk_writer_open(&writer, &config, err, sizeof err), RDAPSYNC_OK, "%s", err);
}

static void open_writer(void)
{
    open_writer_with(&heads_ops);
}

/* Writes one version of key "k" with the vector `vv` as a batch of its own. */
static void write_version(int64_t ts, const char *origin, const rdapsync_vv_entry *vv, size_t n)
{
    batch_reset(batch);
    rdapsync_record *r = (rdapsync_record *)record_add("k", RDAPSYNC_OP_UPSERT, ts, origin, 1, ts);
    cr_assert_eq(host->record_set_vv(batch, r, vv, n), 0);
    cr_assert_eq(rdapsync_sinktk_writer_write(&writer, batch, err, sizeof err), RDAPSYNC_OK, "%s", err);
}

Test(sinktk_mvr_writer, open_gauge_follows_the_log_across_a_restart)
{
    open_writer();
    cr_assert_str_eq(gauge_name, "conflicts_open_manual", "the gauge is set at open");
    cr_assert_eq(gauge, 0);
    write_version(1, "eu", (rdapsync_vv_entry[]){ { "eu", 1 } }, 1);
    write_version(2, "us", (rdapsync_vv_entry[]){ { "us", 1 } }, 1);
    cr_assert_eq(gauge, 1, "two concurrent heads: one open conflict");

    /* A restart: the new writer reads the open conflict from the log. */
    rdapsync_sinktk_writer_close(&writer);
    gauge = -1;
    open_writer();
    cr_assert_eq(gauge, 1, "the open conflict is still counted after a restart");

    write_version(3, "eu", (rdapsync_vv_entry[]){ { "eu", 2 }, { "us", 1 } }, 2);
    cr_assert_eq(gauge, 0, "a version dominating both heads resolves it");
    cr_assert(!store.open);
}

Test(sinktk_mvr_writer, a_store_that_loads_rows_is_asked_for_the_row_only_beside_a_concurrent_version)
{
    open_writer_with(&rows_ops);
    write_version(1, "eu", (rdapsync_vv_entry[]){ { "eu", 1 } }, 1);
    write_version(2, "eu", (rdapsync_vv_entry[]){ { "eu", 2 } }, 1);
    cr_assert_null(strstr(store.heads, "doc"), "a lone head is stored without its document: %s", store.heads);
    cr_assert_eq(store.rows_loaded, 0, "a dominating version needs no row");

    write_version(3, "us", (rdapsync_vv_entry[]){ { "us", 1 } }, 1);
    cr_assert_eq(store.rows_loaded, 1);
    cr_assert(strstr(store.heads, "\"doc\":{\"ts\":2}"), "the row's document joins the heads: %s", store.heads);
    cr_assert(strstr(store.heads, "\"doc\":{\"ts\":3}"), "%s", store.heads);
    cr_assert(store.open);
}

Test(sinktk_mvr_writer, a_store_without_rows_load_keeps_the_lone_heads_document)
{
    open_writer();
    write_version(1, "eu", (rdapsync_vv_entry[]){ { "eu", 1 } }, 1);
    cr_assert(strstr(store.heads, "\"doc\":{\"ts\":1}"), "%s", store.heads);
}
