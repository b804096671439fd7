/*
 * Exactly-once: the positions table, an InnoDB table written in the same
 * transaction as the rows. When it is read and written is the SDK
 * writer's business (rdapsync/sinktk.h); this file only speaks its SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mys.h"

rdapsync_status mys_positions_ensure(MYSQL *conn, const mys_names *names, char *err, size_t err_size)
{
    /* The key stays under InnoDB's 3072-byte index limit. */
    char *sql = mys_printf("CREATE TABLE IF NOT EXISTS %s (pipeline VARBINARY(255) NOT NULL, task INT NOT NULL, "
                           "stream VARBINARY(2048) NOT NULL, `partition` INT NOT NULL, `offset` BIGINT NOT NULL, "
                           "updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), "
                           "PRIMARY KEY (pipeline, task, stream, `partition`)) ENGINE=InnoDB",
                           names->positions);
    if (!sql) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = mys_exec(conn, sql, err, err_size);
    free(sql);
    return status;
}

rdapsync_status mys_positions_load(MYSQL *conn, const mys_names *names, const char *pipeline, int task,
                                   rdapsync_sinktk_positions *out, char *err, size_t err_size)
{
    mys_buffer sql = { 0 };
    if (mys_buffer_printf(&sql, "SELECT stream, `partition`, `offset` FROM %s WHERE pipeline = ", names->positions) !=
            0 ||
        mys_text_literal(&sql, pipeline, strlen(pipeline)) != 0 || mys_buffer_printf(&sql, " AND task = %d", task) != 0) {
        mys_buffer_free(&sql);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    int rc = mysql_real_query(conn, sql.data, (unsigned long)sql.len);
    mys_buffer_free(&sql);
    MYSQL_RES *res = rc == 0 ? mysql_store_result(conn) : NULL;
    if (!res) {
        mys_error_text(conn, err, err_size);
        return mys_failure_status(mys_classify(mysql_errno(conn)));
    }
    MYSQL_ROW row;
    rdapsync_status status = RDAPSYNC_OK;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lengths = mysql_fetch_lengths(res);
        char stream[2049];
        snprintf(stream, sizeof(stream), "%.*s", (int)lengths[0], row[0] ? row[0] : "");
        if (rdapsync_sinktk_positions_note(out, stream, (int32_t)strtol(row[1], NULL, 10), strtoll(row[2], NULL, 10)) != 0) {
            snprintf(err, err_size, "out of memory");
            status = RDAPSYNC_ERROR;
            break;
        }
    }
    mysql_free_result(res);
    return status;
}

rdapsync_status mys_positions_store(MYSQL *conn, const mys_names *names, const char *pipeline, int task,
                                    const rdapsync_sinktk_positions *positions, char *err, size_t err_size)
{
    mys_buffer sql = { 0 };
    int rc = mys_buffer_printf(&sql, "INSERT INTO %s (pipeline, task, stream, `partition`, `offset`) VALUES ",
                               names->positions);
    for (size_t i = 0; rc == 0 && i < positions->count; i++) {
        const rdapsync_sinktk_position *p = &positions->items[i];
        rc = mys_buffer_append(&sql, i ? ",(" : "(", i ? 2 : 1);
        if (rc == 0)
            rc = mys_text_literal(&sql, pipeline, strlen(pipeline));
        if (rc == 0)
            rc = mys_buffer_printf(&sql, ",%d,", task);
        if (rc == 0)
            rc = mys_text_literal(&sql, p->stream, strlen(p->stream));
        if (rc == 0)
            rc = mys_buffer_printf(&sql, ",%d,%lld)", (int)p->partition, (long long)p->offset);
    }
    if (rc == 0)
        rc = mys_buffer_printf(&sql, " ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`), "
                                     "updated_at = CURRENT_TIMESTAMP(3)");
    if (rc != 0) {
        mys_buffer_free(&sql);
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rc = mysql_real_query(conn, sql.data, (unsigned long)sql.len);
    mys_buffer_free(&sql);
    if (rc == 0)
        return RDAPSYNC_OK;
    mys_error_text(conn, err, err_size);
    mys_failure failure = mys_classify(mysql_errno(conn));
    return mys_failure_status(failure == MYS_FAIL_DATA ? MYS_FAIL_FATAL : failure);
}
