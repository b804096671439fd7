/*
 * Connecting, setting up the session, classifying errors. The
 * classification decides the three-word answer: a connection that went
 * away, a server shutting down, a deadlock or a lock wait timeout is RETRY
 * (the host backs off, we reconnect on the next call and the batch is
 * written again), a row's bad data is a reject, anything else fails the
 * task.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "mys.h"

/* The session every statement of the sink relies on:
 *  - strict mode: a value that does not fit is an error, never truncated
 *    in silence (a cut key would merge two records);
 *  - no ANSI_QUOTES / NO_BACKSLASH_ESCAPES: the sink quotes with backticks
 *    and escapes with backslashes;
 *  - UTC for updated_at;
 *  - READ COMMITTED: no gap locks, so tasks writing neighbouring keys do
 *    not deadlock each other. */
static const char *const session_sql[] = {
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
    "time_zone = '+00:00'",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
};

static unsigned int seconds(int64_t ms)
{
    return (unsigned int)((ms + 999) / 1000);
}

static void set_options(MYSQL *conn, const mys_config *cfg)
{
    unsigned int connect_timeout = seconds(cfg->connect_timeout);
    unsigned int io_timeout = seconds(cfg->read_timeout);
    /* The direct path (mys_load.c) needs LOCAL INFILE; its handler serves
     * only the rows being loaded, never a file the server names. */
    unsigned int local_infile = cfg->method != MYS_METHOD_INSERT;
    my_bool no = 0, yes = 1;

    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
    mysql_optionsv(conn, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    if (local_infile)
        mys_load_prepare(conn);
    /* The library's own reconnect would silently drop the open transaction:
     * the sink reconnects itself and the host writes the batch again. */
    mysql_options(conn, MYSQL_OPT_RECONNECT, &no);
    mysql_options4(conn, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "rdapsync");
    if (cfg->tls != MYS_TLS_OFF) {
        mysql_options(conn, MYSQL_OPT_SSL_ENFORCE, &yes);
        mysql_options(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, cfg->tls == MYS_TLS_VERIFY ? &yes : &no);
        if (cfg->tls_ca && *cfg->tls_ca)
            mysql_options(conn, MYSQL_OPT_SSL_CA, cfg->tls_ca);
    }
}

MYSQL *mys_connect(const mys_config *cfg, rdapsync_status *status, char *err, size_t err_size)
{
    MYSQL *conn = mysql_init(NULL);
    if (!conn) {
        snprintf(err, err_size, "out of memory");
        *status = RDAPSYNC_ERROR;
        return NULL;
    }
    set_options(conn, cfg);
    const char *socket = cfg->socket && *cfg->socket ? cfg->socket : NULL;
    if (!mysql_real_connect(conn, cfg->host, cfg->user, cfg->password ? cfg->password : "", cfg->database,
                            (unsigned int)cfg->port, socket, 0)) {
        char reason[512];
        mys_error_text(conn, reason, sizeof(reason));
        unsigned int error = mysql_errno(conn);
        /* Wrong credentials or database do not get better by waiting. */
        mys_failure failure = error == ER_ACCESS_DENIED_ERROR || error == ER_BAD_DB_ERROR ||
                                      error == ER_DBACCESS_DENIED_ERROR || error == CR_SSL_CONNECTION_ERROR
                                  ? MYS_FAIL_FATAL
                                  : mys_classify(error);
        if (failure == MYS_FAIL_DATA)
            failure = MYS_FAIL_FATAL;
        snprintf(err, err_size, "cannot connect to %s: %s", socket ? socket : cfg->host, reason);
        *status = mys_failure_status(failure);
        mysql_close(conn);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(session_sql) / sizeof(session_sql[0]); i++) {
        if ((*status = mys_exec(conn, session_sql[i], err, err_size)) != RDAPSYNC_OK) {
            mysql_close(conn);
            return NULL;
        }
    }
    *status = RDAPSYNC_OK;
    return conn;
}

mys_failure mys_classify(unsigned int error)
{
    switch (error) {
    /* the connection */
    case CR_CONNECTION_ERROR:     /* 2002 */
    case CR_CONN_HOST_ERROR:      /* 2003 */
    case CR_UNKNOWN_HOST:         /* 2005, a resolver hiccup */
    case CR_SERVER_GONE_ERROR:    /* 2006 */
    case CR_SERVER_LOST:          /* 2013 */
    case CR_SERVER_LOST_EXTENDED: /* 2055 */
    case CR_COMMANDS_OUT_OF_SYNC: /* 2014, after a half-read answer */
    case ER_CON_COUNT_ERROR:      /* 1040 too many connections */
    case ER_SERVER_SHUTDOWN:      /* 1053 */
    case ER_NEW_ABORTING_CONNECTION: /* 1184 */
    case ER_CONNECTION_KILLED:    /* 1927 (MariaDB) */
    case 4031:                    /* MySQL 8: disconnected for inactivity */
    /* the transaction */
    case ER_LOCK_DEADLOCK:        /* 1213 */
    case ER_LOCK_WAIT_TIMEOUT:    /* 1205 */
    case ER_QUERY_INTERRUPTED:    /* 1317 */
    case 1969:                    /* MariaDB: max_statement_time exceeded */
    case 3024:                    /* MySQL: max_execution_time exceeded */
    /* the server's room and role */
    case ER_DISK_FULL:            /* 1021 */
    case ER_RECORD_FILE_FULL:     /* 1114 */
    case ER_OPTION_PREVENTS_STATEMENT: /* 1290, --read-only during a failover */
    case 1836:                    /* read-only mode */
        return MYS_FAIL_RETRY;
    /* a row's data */
    case ER_DATA_TOO_LONG:        /* 1406 */
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: /* 1366, incorrect string value */
    case ER_WARN_DATA_OUT_OF_RANGE: /* 1264 */
    case WARN_DATA_TRUNCATED:     /* 1265 */
    case ER_TRUNCATED_WRONG_VALUE: /* 1292 */
    case ER_BAD_NULL_ERROR:       /* 1048 */
    case ER_DUP_ENTRY:            /* 1062, a unique index of the user's */
    case ER_NO_REFERENCED_ROW_2:  /* 1452 */
    case ER_ROW_IS_REFERENCED_2:  /* 1451 */
    case ER_SIGNAL_EXCEPTION:     /* 1644, a trigger's SIGNAL */
    case 1690:                    /* value out of range in an expression */
    case 3140:                    /* MySQL: invalid JSON text */
    case 3819:                    /* MySQL: check constraint violated */
    case 4025:                    /* MariaDB: CONSTRAINT failed (the JSON column's json_valid) */
        return MYS_FAIL_DATA;
    default:
        return MYS_FAIL_FATAL;
    }
}

rdapsync_status mys_failure_status(mys_failure failure)
{
    return failure == MYS_FAIL_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
}

void mys_error_text(MYSQL *conn, char *out, size_t out_size)
{
    const char *message = conn ? mysql_error(conn) : NULL;
    snprintf(out, out_size, "%s (error %u, SQLSTATE %s)", message && *message ? message : "unknown error",
             conn ? mysql_errno(conn) : 0, conn ? mysql_sqlstate(conn) : "HY000");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static rdapsync_status failed(MYSQL *conn, char *err, size_t err_size)
{
    mys_error_text(conn, err, err_size);
    mys_failure failure = mys_classify(mysql_errno(conn));
    return mys_failure_status(failure);
}

rdapsync_status mys_exec(MYSQL *conn, const char *sql, char *err, size_t err_size)
{
    if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)) != 0)
        return failed(conn, err, err_size);
    if (mysql_field_count(conn) > 0) {
        MYSQL_RES *res = mysql_store_result(conn);
        if (!res)
            return failed(conn, err, err_size);
        mysql_free_result(res);
    }
    return RDAPSYNC_OK;
}

rdapsync_status mys_query_value(MYSQL *conn, const char *sql, char *out, size_t out_size, char *err,
                                size_t err_size)
{
    out[0] = '\0';
    if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)) != 0)
        return failed(conn, err, err_size);
    MYSQL_RES *res = mysql_store_result(conn);
    if (!res)
        return failed(conn, err, err_size);
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0])
        snprintf(out, out_size, "%s", row[0]);
    mysql_free_result(res);
    return RDAPSYNC_OK;
}

char *mys_quote_ident(const char *ident)
{
    size_t len = strlen(ident), extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += ident[i] == '`';
    char *out = malloc(len + extra + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = '`';
    for (size_t i = 0; i < len; i++) {
        if (ident[i] == '`')
            *p++ = '`';
        *p++ = ident[i];
    }
    *p++ = '`';
    *p = '\0';
    return out;
}

char *mys_printf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (len < 0)
        return NULL;
    char *out = malloc((size_t)len + 1);
    if (!out)
        return NULL;
    va_start(args, fmt);
    vsnprintf(out, (size_t)len + 1, fmt, args);
    va_end(args);
    return out;
}
