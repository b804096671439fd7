/* Test harness for the SQLite sink (see sqlite_harness.h). */
#define _XOPEN_SOURCE 700
#include "sqlite_harness.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "context.h"
#include "context_internal.h"
#include "diag.h"
#include "options.h"
#include "yaml_tree.h"

const rdapsync_host *host(void) { return host_api_table(); }

char *tmpdir_new(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = malloc(4096);
    cr_assert_not_null(dir);
    snprintf(dir, 4096, "%s/rdapsync-sqlite-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
    return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void tmpdir_remove(char *dir)
{
    if (!dir)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *path_join(const char *dir, const char *name)
{
    char *out = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(out);
    sprintf(out, "%s/%s", dir, name);
    return out;
}

void sink_load(sink *s, const char *yaml, int task_index)
{
    char file[512];
    diag_list diags;
    bool failed = false;

    memset(s, 0, sizeof(*s));
    snprintf(file, sizeof(file), "%s/sink-sqlite.so", RDAPSYNC_PLUGIN_BUILD_DIR);
    s->plugin = loader_load(file, RDAPSYNC_KIND_SINK, "sqlite", s->err, sizeof(s->err));
    cr_assert_not_null(s->plugin, "loading %s: %s", file, s->err);

    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root, "YAML '%s' does not parse", yaml);
    s->settings = options_fill(s->plugin->desc, root, root, "test.yaml", "test", &diags, &failed);
    if (failed || diag_error_count(&diags)) {
        diag_print(&diags, stderr);
        cr_assert_fail("options '%s' rejected", yaml);
    }
    ynode_free(root);
    diag_list_free(&diags);
    s->ctx = context_new("test", task_index, 1, RDAPSYNC_KIND_SINK, "sqlite", NULL, NULL);
    cr_assert_not_null(s->ctx);
}

rdapsync_status sink_open(sink *s)
{
    s->err[0] = '\0';
    rdapsync_status status = s->plugin->desc->open(s->ctx, s->settings, &s->state, s->err, sizeof(s->err));
    s->opened = status == RDAPSYNC_OK;
    return status;
}

void sink_reopen(sink *s)
{
    if (s->opened)
        s->plugin->desc->close(s->state);
    s->opened = false;
    s->state = NULL;
}

void sink_unload(sink *s)
{
    sink_reopen(s);
    context_free(s->ctx);
    options_free(s->plugin->desc, s->settings);
    loader_unload(s->plugin);
    memset(s, 0, sizeof(*s));
}

rdapsync_status sink_write(sink *s, const rdapsync_batch *batch)
{
    s->err[0] = '\0';
    return s->plugin->desc->write(s->state, batch, s->err, sizeof(s->err));
}

rdapsync_status sink_flush(sink *s)
{
    s->err[0] = '\0';
    return s->plugin->desc->flush(s->state, s->err, sizeof(s->err));
}

size_t sink_reject_count(const sink *s) { return context_reject_count(s->ctx); }
const char *sink_last_reject(const sink *s) { return context_last_reject(s->ctx); }

bool sink_checkpoint(sink *s, const char *stream, int32_t partition, int64_t *offset)
{
    return host()->checkpoint_get(s->ctx, stream, partition, offset);
}

rdapsync_record *add_change(rdapsync_batch *batch, const char *key, const char *json, int64_t ts,
                            const char *origin, int64_t seq, const char *stream, int64_t offset)
{
    const rdapsync_host *h = host();
    char err[256] = "";
    rdapsync_record *r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    if (json) {
        rdapsync_value *v = h->json->parse(json, strlen(json), err, sizeof(err));
        cr_assert_not_null(v, "test JSON '%s': %s", json, err);
        cr_assert_eq(h->record_set_value(batch, r, v), 0);
    } else {
        cr_assert_eq(h->record_set_op(batch, r, RDAPSYNC_OP_DELETE), 0);
    }
    cr_assert_eq(h->record_set_version(batch, r, ts, origin, seq), 0);
    cr_assert_eq(h->record_set_position(batch, r, stream, stream ? 0 : -1, offset), 0);
    return r;
}

sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "open %s: %s", path,
                 db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static sqlite3_stmt *db_query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    int rc = sqlite3_step(stmt);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
    return stmt;
}

char *db_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = db_query(db, sql);
    const unsigned char *text = sqlite3_data_count(stmt) ? sqlite3_column_text(stmt, 0) : NULL;
    char *out = text ? strdup((const char *)text) : NULL;
    sqlite3_finalize(stmt);
    return out;
}

int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = db_query(db, sql);
    cr_assert(sqlite3_data_count(stmt) > 0, "%s: no row", sql);
    int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

void db_exec(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &message), SQLITE_OK, "%s: %s", sql, message ? message : "?");
}
