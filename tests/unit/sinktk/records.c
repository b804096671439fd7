#include "records.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "loader.h"

const rdapsync_host *host;
rdapsync_batch *batch;

void records_setup(void)
{
    host = host_api_table();
    batch = batch_new(64);
}

void records_teardown(void)
{
    batch_free(batch);
}

const rdapsync_record *record_add(const char *key, rdapsync_op op, int64_t ts, const char *origin, int64_t seq,
                                  int64_t offset)
{
    rdapsync_record *r = host->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(host->record_set_key(batch, r, key, strlen(key)), 0);
    host->record_set_op(batch, r, op);
    if (op == RDAPSYNC_OP_UPSERT) {
        char text[64], err[64];
        snprintf(text, sizeof(text), "{\"ts\":%lld}", (long long)ts);
        host->record_set_value(batch, r, host->json->parse(text, strlen(text), err, sizeof(err)));
    }
    host->record_set_version(batch, r, ts, origin, seq);
    host->record_set_position(batch, r, "s", 0, offset);
    return r;
}
