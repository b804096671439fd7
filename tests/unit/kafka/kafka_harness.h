/*
 * Drives the built kafka plugins the way the host does (the real loader on
 * the built plugin files, the real option filler on a YAML snippet, a context
 * without a task, real batches) against librdkafka's in-process mock
 * cluster: fast enough for the commit and rebalance logic. Behaviour that
 * is about a real broker (separate processes, kill -9, broker restarts)
 * lives in tests/integration/kafka/.
 */
#ifndef KAFKA_HARNESS_H
#define KAFKA_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <rdapsync/rdapsync.h>

#include "loader.h"

typedef struct instance {
    loaded_plugin *plugin;
    void *settings;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
    char err[1024];
} instance;

/* A mock cluster of one broker and a producer connected to it. */
typedef struct mock {
    rd_kafka_t *producer;
    rd_kafka_mock_cluster_t *cluster;
    const char *brokers; /* borrowed from the cluster */
} mock;

const rdapsync_host *host(void);

void mock_start(mock *m);
void mock_stop(mock *m);
void mock_topic(mock *m, const char *topic, int partitions);
/* Produces one message (value NULL = tombstone) and waits for its delivery.
 * `headers` is NULL or a NULL-terminated list of name, value pairs. */
void mock_produce(mock *m, const char *topic, int partition, const char *key, const char *value,
                  const char *const *headers);
/* The group's committed offset of (topic, partition); -1 when none. */
int64_t mock_committed(mock *m, const char *group, const char *topic, int partition);

/* Loads "<kind>-kafka.so", fills its options from `yaml` (a YAML mapping)
 * and makes its context (pipeline "test", task 0 of 1). Fails the test on
 * any error. */
void instance_load(instance *in, rdapsync_kind kind, const char *yaml);
rdapsync_status instance_open(instance *in);
void instance_close(instance *in);
/* The check() hook's answer for `yaml` (the options themselves must fill). */
rdapsync_status instance_check(rdapsync_kind kind, const char *yaml, char *err, size_t err_size);

/* Polls into `batch` until it holds `count` records or `timeout_ms` passes;
 * returns the count it holds. */
size_t poll_until(instance *source, rdapsync_batch *batch, size_t count, int timeout_ms);
/* Polls for `ms` milliseconds (serving rebalances), adding to `batch`. */
void poll_for(instance *source, rdapsync_batch *batch, int ms);
/* The host's commit() of one position. */
void commit_position(instance *source, const char *topic, int partition, int64_t offset);

/* A message read back, copied out of librdkafka. */
#define READ_MAX_HEADERS 16
typedef struct read_msg {
    char *key; /* NUL-terminated copies; NULL when absent */
    char *value;
    size_t value_len;
    int partition;
    int64_t offset;
    size_t header_count;
    char *header_names[READ_MAX_HEADERS];
    char *header_values[READ_MAX_HEADERS];
} read_msg;

/* Reads the whole topic from the beginning: up to `max` messages or until
 * `timeout_ms` passes. Caller frees with read_free(). */
read_msg *read_topic(mock *m, const char *topic, size_t max, int timeout_ms, size_t *count);
void read_free(read_msg *msgs, size_t count);
/* The last header `name` of a message read back, or NULL. */
const char *read_header(const read_msg *msg, const char *name);

/* Record builders for sink tests. */
rdapsync_record *record_upsert(rdapsync_batch *batch, const char *key, const char *json, int64_t offset);
rdapsync_record *record_delete(rdapsync_batch *batch, const char *key, int64_t offset);

/* Value of the first record header `name` as a NUL-terminated string, or NULL. */
const char *header_of(const rdapsync_record *r, const char *name);
/* Compact JSON of a value, sorted keys; caller frees with host()->free. */
char *dump_sorted(const rdapsync_value *v);

#endif
