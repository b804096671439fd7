/*
 * The conformance kit's read-back hook for the MySQL sink
 * (sdk/testkit/testkit.h). The argument is "DATABASE.TABLE"; the server and
 * credentials come from RDAPSYNC_MYSQL_HOST/PORT/USER/PASSWORD. Reset drops
 * the table, its _live view and the exactly-once positions table, so every
 * case starts from what a fresh install sees. Read-back prints the live
 * rows; the server builds each JSON line (JSON_QUOTE escapes the key, the
 * document is printed as stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "testkit.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size);
EXPORT int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size);

static MYSQL *connect_env(const char *database, char *err, size_t err_size)
{
    const char *host = getenv("RDAPSYNC_MYSQL_HOST"), *port = getenv("RDAPSYNC_MYSQL_PORT");
    const char *user = getenv("RDAPSYNC_MYSQL_USER"), *password = getenv("RDAPSYNC_MYSQL_PASSWORD");
    if (!host || !port || !user || !password) {
        snprintf(err, err_size, "RDAPSYNC_MYSQL_HOST/PORT/USER/PASSWORD must be set");
        return NULL;
    }
    MYSQL *conn = mysql_init(NULL);
    if (!conn) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(conn, host, user, password, database, (unsigned int)atoi(port), NULL, 0)) {
        snprintf(err, err_size, "%s", mysql_error(conn));
        mysql_close(conn);
        return NULL;
    }
    return conn;
}

/* "db.table" -> db, `table` and `table_live`. */
static int parse_arg(const char *arg, char *db, char *table, char *live, size_t size, char *err, size_t err_size)
{
    const char *dot = strchr(arg, '.');
    if (!dot || dot == arg || !dot[1] || (size_t)(dot - arg) >= size || strlen(dot + 1) + 8 >= size ||
        strchr(dot + 1, '`')) {
        snprintf(err, err_size, "hook argument must be DATABASE.TABLE, got \"%s\"", arg);
        return -1;
    }
    snprintf(db, size, "%.*s", (int)(dot - arg), arg);
    snprintf(table, size, "`%s`", dot + 1);
    snprintf(live, size, "`%s_live`", dot + 1);
    return 0;
}

static int run(MYSQL *conn, const char *sql, char *err, size_t err_size)
{
    if (mysql_query(conn, sql) == 0)
        return 0;
    snprintf(err, err_size, "%s", mysql_error(conn));
    return -1;
}

int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size)
{
    char db[128], table[128], live[128], sql[512];
    if (parse_arg(arg, db, table, live, sizeof(db), err, err_size) != 0)
        return -1;
    MYSQL *conn = connect_env(db, err, err_size);
    if (!conn)
        return -1;
    snprintf(sql, sizeof(sql), "DROP VIEW IF EXISTS %s", live);
    int rc = run(conn, sql, err, err_size);
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s, rdapsync_positions", table);
    if (rc == 0)
        rc = run(conn, sql, err, err_size);
    mysql_close(conn);
    return rc;
}

int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size)
{
    char db[128], table[128], live[128], sql[512];
    if (parse_arg(arg, db, table, live, sizeof(db), err, err_size) != 0)
        return -1;
    MYSQL *conn = connect_env(db, err, err_size);
    if (!conn)
        return -1;
    snprintf(sql, sizeof(sql),
             "SELECT CONCAT('{\"key\":', JSON_QUOTE(CONVERT(`key` USING utf8mb4)), ',\"value\":', doc, '}') "
             "FROM %s WHERE NOT deleted",
             table);
    int rc = run(conn, sql, err, err_size);
    MYSQL_RES *res = rc == 0 ? mysql_use_result(conn) : NULL;
    if (rc == 0 && !res) {
        snprintf(err, err_size, "%s", mysql_error(conn));
        rc = -1;
    }
    MYSQL_ROW row;
    while (res && (row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lengths = mysql_fetch_lengths(res);
        fwrite(row[0], 1, lengths[0], out);
        fputc('\n', out);
    }
    if (res && mysql_errno(conn)) {
        snprintf(err, err_size, "%s", mysql_error(conn));
        rc = -1;
    }
    mysql_free_result(res);
    mysql_close(conn);
    return rc;
}
