/* Test records in a real host batch, for the toolkit's tests. */
#ifndef RDAPSYNC_TEST_SINKTK_RECORDS_H
#define RDAPSYNC_TEST_SINKTK_RECORDS_H

#include <rdapsync/sinktk.h>

/* The host's own table and a batch of 64 records, made by records_setup()
 * and freed by records_teardown() (Criterion .init / .fini). */
extern const rdapsync_host *host;
extern rdapsync_batch *batch;
void records_setup(void);
void records_teardown(void);

/* Appends a record: key NULL for none; an upsert gets the document
 * {"ts": ts}; position stream "s", partition 0, `offset`. */
const rdapsync_record *record_add(const char *key, rdapsync_op op, int64_t ts, const char *origin, int64_t seq,
                                  int64_t offset);

#endif
