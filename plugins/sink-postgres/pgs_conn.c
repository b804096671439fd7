/*
 * Connecting, classifying errors, and the small helpers every other file
 * uses. The classification decides the three-word answer: a connection that
 * went away is RETRY (the host backs off, we reconnect on the next call), a
 * row's bad data is a reject, anything else fails the task.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgs.h"

static const char *const tls_modes[] = { NULL, "disable", "allow", "prefer", "require", "verify-ca", "verify-full" };

PGconn *pgs_connect(const pgs_config *cfg, char *err, size_t err_size)
{
    /* Later keywords override earlier ones: the DSN may set its own
     * connect_timeout, while the sink's TLS choice, when given, wins. */
    const char *keys[8];
    const char *values[8];
    char timeout[24];
    size_t n = 0;

    snprintf(timeout, sizeof(timeout), "%lld", (long long)((cfg->connect_timeout + 999) / 1000));
    keys[n] = "connect_timeout", values[n++] = timeout;
    keys[n] = "fallback_application_name", values[n++] = "rdapsync";
    keys[n] = "dbname", values[n++] = cfg->dsn;
    if (cfg->tls > 0 && cfg->tls < (int)(sizeof(tls_modes) / sizeof(tls_modes[0])))
        keys[n] = "sslmode", values[n++] = tls_modes[cfg->tls];
    if (cfg->tls_root_cert && *cfg->tls_root_cert)
        keys[n] = "sslrootcert", values[n++] = cfg->tls_root_cert;
    keys[n] = NULL, values[n] = NULL;

    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        snprintf(err, err_size, "out of memory connecting to PostgreSQL");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        pgs_error_text(conn, NULL, err, err_size);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

static bool sqlstate_is(const char *state, const char *prefix)
{
    return strncmp(state, prefix, strlen(prefix)) == 0;
}

pgs_failure pgs_classify(PGconn *conn, const PGresult *res)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return PGS_FAIL_RETRY;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* libpq's own errors (no SQLSTATE) are about the connection. */
    if (!state || strlen(state) != 5)
        return PGS_FAIL_RETRY;
    if (sqlstate_is(state, "08")        /* connection exception */
        || sqlstate_is(state, "57P")    /* admin/crash shutdown, cannot connect now */
        || sqlstate_is(state, "53")     /* insufficient resources (disk full, too many connections) */
        || sqlstate_is(state, "58")     /* system error (I/O) */
        || sqlstate_is(state, "40")     /* serialization failure, deadlock */
        || strcmp(state, "55P03") == 0  /* lock not available */
        || strcmp(state, "57014") == 0) /* statement timeout or cancel */
        return PGS_FAIL_RETRY;
    if (sqlstate_is(state, "22")     /* data exception: bad JSON, encoding, value too long */
        || sqlstate_is(state, "23")  /* integrity constraint violation */
        || sqlstate_is(state, "54")) /* program limit: index row too large, too many columns */
        return PGS_FAIL_DATA;
    return PGS_FAIL_FATAL;
}

rdapsync_status pgs_failure_status(pgs_failure failure)
{
    return failure == PGS_FAIL_RETRY ? RDAPSYNC_RETRY : RDAPSYNC_ERROR;
}

/* Copies `text` to out on one line (newlines and tabs become spaces,
 * trailing blanks are dropped). */
static void one_line(const char *text, char *out, size_t out_size)
{
    size_t n = 0;

    if (out_size == 0)
        return;
    for (const char *p = text; *p && n + 1 < out_size; p++)
        out[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

void pgs_error_text(PGconn *conn, const PGresult *res, char *out, size_t out_size)
{
    char buf[1024];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;

    if (state && primary) {
        snprintf(buf, sizeof(buf), "%s %s%s%s", state, primary, detail ? " (" : "", detail ? detail : "");
        if (detail && strlen(buf) + 1 < sizeof(buf))
            strcat(buf, ")");
    } else {
        const char *message = res ? PQresultErrorMessage(res) : NULL;
        if (!message || !*message)
            message = conn ? PQerrorMessage(conn) : "no connection";
        if (!message || !*message)
            message = "unknown error";
        snprintf(buf, sizeof(buf), "%s", message);
    }
    one_line(buf, out, out_size);
}

rdapsync_status pgs_exec(PGconn *conn, const char *sql, char *err, size_t err_size)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        PQclear(res);
        return RDAPSYNC_OK;
    }
    pgs_error_text(conn, res, err, err_size);
    pgs_failure failure = pgs_classify(conn, res);
    PQclear(res);
    return pgs_failure_status(failure);
}

char *pgs_printf(const char *fmt, ...)
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

static char *quote_with(const char *text, char quote)
{
    size_t len = strlen(text), extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += text[i] == quote;
    char *out = malloc(len + extra + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = quote;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == quote)
            *p++ = quote;
        *p++ = text[i];
    }
    *p++ = quote;
    *p = '\0';
    return out;
}

char *pgs_quote_ident(const char *ident)
{
    return quote_with(ident, '"');
}

rdapsync_status pgs_ask(PGconn *conn, const char *sql, const char *param, bool *answer, char *err, size_t err_size)
{
    PGresult *res = PQexecParams(conn, sql, 1, NULL, &param, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        pgs_error_text(conn, res, err, err_size);
        rdapsync_status status = pgs_failure_status(pgs_classify(conn, res));
        PQclear(res);
        return status;
    }
    *answer = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return RDAPSYNC_OK;
}
