/*
 * The conformance kit's read-back hook for the PostgreSQL sink
 * (sdk/testkit/testkit.h). The argument is the sink's table name; the
 * server comes from RDAPSYNC_PG_DSN. Reset drops the table (its _live view
 * goes with it) and the exactly-once positions table, so every case starts
 * from what a fresh install sees. Read-back prints the live rows, letting
 * PostgreSQL build each JSON line so that no escaping is done here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "testkit.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size);
EXPORT int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size);

static PGconn *connect_env(char *err, size_t err_size)
{
    const char *dsn = getenv("RDAPSYNC_PG_DSN");
    if (!dsn || !*dsn) {
        snprintf(err, err_size, "RDAPSYNC_PG_DSN is not set");
        return NULL;
    }
    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, err_size, "%s", PQerrorMessage(conn));
        err[strcspn(err, "\n")] = '\0';
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static int run(PGconn *conn, const char *sql, const char *param, ExecStatusType want, PGresult **out, char *err,
               size_t err_size)
{
    PGresult *res = PQexecParams(conn, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != want) {
        snprintf(err, err_size, "%s", PQresultErrorMessage(res));
        err[strcspn(err, "\n")] = '\0';
        PQclear(res);
        return -1;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size)
{
    PGconn *conn = connect_env(err, err_size);
    if (!conn)
        return -1;
    char *table = PQescapeIdentifier(conn, arg, strlen(arg));
    char sql[512];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s, rdapsync_positions CASCADE", table);
    PQfreemem(table);
    int rc = run(conn, "SET client_min_messages = warning", NULL, PGRES_COMMAND_OK, NULL, err, err_size);
    if (rc == 0)
        rc = run(conn, sql, NULL, PGRES_COMMAND_OK, NULL, err, err_size);
    PQfinish(conn);
    return rc;
}

int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size)
{
    PGconn *conn = connect_env(err, err_size);
    if (!conn)
        return -1;
    char *table = PQescapeIdentifier(conn, arg, strlen(arg));
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT json_build_object('key', key, 'value', doc) FROM %s WHERE NOT deleted", table);
    PQfreemem(table);
    PGresult *res = NULL;
    int rc = run(conn, sql, NULL, PGRES_TUPLES_OK, &res, err, err_size);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        fprintf(out, "%s\n", PQgetvalue(res, i, 0));
    PQclear(res);
    PQfinish(conn);
    return rc;
}
