/*
 * The ceiling for bench/sqlite/run.sh: SQLite's own bulk path. Reads every
 * row of TABLE in SOURCE_DB (what the sink stored: the serialized rows) into
 * memory, creates the same table in TARGET_DB with the same pragmas as the
 * sink (WAL, synchronous as given), then times one transaction of one
 * prepared INSERT stepped per row. The sink cannot beat this: it also
 * serializes documents and guards versions.
 *
 *   sqlite_ceiling SOURCE_DB TABLE TARGET_DB [full|normal]
 * prints: rows N seconds S cpu_seconds C (wall and CPU time of the insert loop)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define COLUMNS 10 /* key, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, src_offset, updated_at */

typedef struct cell {
    int type;
    sqlite3_int64 integer;
    char *text; /* TEXT or NULL */
    int len;
} cell;

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: sqlite_ceiling SOURCE_DB TABLE TARGET_DB [full|normal]\n");
        return 2;
    }
    const char *sync = argc == 5 ? argv[4] : "full";
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_stmt *stmt = NULL;
    char sql[1024];

    if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(src, argv[1]);
    /* The table's own CREATE statement, for an identical target. */
    snprintf(sql, sizeof(sql), "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '%s'", argv[2]);
    if (sqlite3_prepare_v2(src, sql, -1, &stmt, NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
        die(src, "no such table");
    char *create = strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);

    snprintf(sql, sizeof(sql), "SELECT key, doc, deleted, event_time_ms, origin, seq, src_stream, src_partition, "
                               "src_offset, updated_at FROM \"%s\"", argv[2]);
    if (sqlite3_prepare_v2(src, sql, -1, &stmt, NULL) != SQLITE_OK)
        die(src, sql);
    size_t rows = 0, capacity = 0;
    cell *cells = NULL;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (rows == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            cells = realloc(cells, capacity * COLUMNS * sizeof(*cells));
            if (!cells)
                die(NULL, "out of memory");
        }
        for (int c = 0; c < COLUMNS; c++) {
            cell *x = &cells[rows * COLUMNS + c];
            x->type = sqlite3_column_type(stmt, c);
            x->integer = sqlite3_column_int64(stmt, c);
            x->text = NULL;
            if (x->type == SQLITE_TEXT) {
                x->len = sqlite3_column_bytes(stmt, c);
                x->text = malloc((size_t)x->len + 1);
                memcpy(x->text, sqlite3_column_text(stmt, c), (size_t)x->len + 1);
            }
        }
        rows++;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(src);

    if (sqlite3_open(argv[3], &dst) != SQLITE_OK)
        die(dst, argv[3]);
    exec(dst, "PRAGMA journal_mode=WAL");
    snprintf(sql, sizeof(sql), "PRAGMA synchronous=%s", sync);
    exec(dst, sql);
    exec(dst, create);
    snprintf(sql, sizeof(sql), "INSERT INTO \"%s\" (key, doc, deleted, event_time_ms, origin, seq, src_stream, "
                               "src_partition, src_offset, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
             argv[2]);
    if (sqlite3_prepare_v2(dst, sql, -1, &stmt, NULL) != SQLITE_OK)
        die(dst, sql);

    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    exec(dst, "BEGIN");
    for (size_t r = 0; r < rows; r++) {
        for (int c = 0; c < COLUMNS; c++) {
            const cell *x = &cells[r * COLUMNS + c];
            if (x->type == SQLITE_TEXT)
                sqlite3_bind_text(stmt, c + 1, x->text, x->len, SQLITE_STATIC);
            else if (x->type == SQLITE_NULL)
                sqlite3_bind_null(stmt, c + 1);
            else
                sqlite3_bind_int64(stmt, c + 1, x->integer);
        }
        if (sqlite3_step(stmt) != SQLITE_DONE)
            die(dst, "insert");
        sqlite3_reset(stmt);
    }
    exec(dst, "COMMIT");
    printf("rows %zu seconds %.3f cpu_seconds %.3f\n", rows, clock_s(CLOCK_MONOTONIC) - t0,
           clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);

    sqlite3_finalize(stmt);
    sqlite3_close(dst);
    for (size_t i = 0; i < rows * COLUMNS; i++)
        free(cells[i].text);
    free(cells);
    free(create);
    return 0;
}
