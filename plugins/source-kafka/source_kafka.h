/*
 * The `kafka` source's internals, shared by its files (all hidden: the
 * plugin exports only its entry symbol). docs/plugins/source-kafka.md
 * describes the behaviour; this header the pieces.
 *
 *   source_kafka.c   descriptor, options, open/close/poll/commit
 *   client.c         the librdkafka consumer: configuration, callbacks
 *   partitions.c     per-partition state: rebalances, acknowledged and
 *                    committed offsets, resume points
 *   decode.c         one Kafka message -> one record (json or debezium)
 *   dbz_types.c      Debezium semantic types (JsonConverter schema) -> JSON
 *   jpath.c          the small JSON path used for keys
 *   latency.c        producer timestamp -> commit latency histogram
 *
 * Threading: every callback of librdkafka that touches this state (rebalance,
 * offset commit) is served from rd_kafka_consumer_poll() on the task's
 * thread, so nothing here needs a lock. Only the log callback runs on
 * librdkafka's own threads, and it reads nothing but the context.
 */
#ifndef RDAPSYNC_SOURCE_KAFKA_H
#define RDAPSYNC_SOURCE_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include "jscan.h"
#include <rdapsync/rdapsync.h>

#include "origin_skip.h"

/* Regions a version vector may name (stack arrays). */
#define KS_MAX_REGIONS 64

extern const rdapsync_host *ks_host;

enum ks_format { KS_FORMAT_JSON = 0, KS_FORMAT_DEBEZIUM = 1 };
enum ks_key_from { KS_KEY_MESSAGE = 0, KS_KEY_VALUE = 1 };
enum ks_event_time { KS_TIME_ENVELOPE = 0, KS_TIME_SOURCE = 1, KS_TIME_MESSAGE = 2 };
enum ks_sequence { KS_SEQUENCE_AUTO = 0, KS_SEQUENCE_OFFSET = 1 };
enum ks_start { KS_START_EARLIEST = 0, KS_START_LATEST = 1 };
enum ks_time_format { KS_TIME_FORMAT_RFC3339 = 0, KS_TIME_FORMAT_EPOCH_MS = 1 };
enum ks_other_columns { KS_COLUMNS_DROP = 0, KS_COLUMNS_HEADERS = 1 };
enum ks_truncate { KS_TRUNCATE_SKIP = 0, KS_TRUNCATE_DEAD_LETTER = 1 };
enum ks_tombstones { KS_TOMBSTONES_DELETE = 0, KS_TOMBSTONES_SKIP = 1 };

/* Filled by the host from the option table in source_kafka.c. */
typedef struct ks_config {
    char *brokers;
    rdapsync_string_list topics;
    char *topic_pattern;
    char *group;
    int format;
    int key_from;
    char *key_path;
    char *origin;
    int event_time;
    int sequence;
    int start;
    bool host_checkpoints;
    int64_t session_timeout_ms;
    int64_t commit_timeout_ms;
    rdapsync_string_map properties;
    /* debezium only */
    char *document;                   /* column of the row image that is the document; NULL: the row */
    int other_columns;                /* with document: the other columns as headers, or dropped */
    rdapsync_string_list json_fields; /* columns parsed as JSON without a schema saying so */
    int time_format;                  /* io.debezium.time.* as RFC 3339 text or epoch ms */
    int truncate;                     /* op t: skipped (counted) or dead-lettered */
    int tombstones;                   /* deletes of the message key, or skipped (counted) */
    char *vv_field;                   /* path in the envelope of the version vector (after.vv); NULL: none */
    rdapsync_string_list skip_origins; /* origin_skip.h */
} ks_config;

/* A parsed "a.b[2].c" path; segments point into `text`. */
typedef struct ks_path_segment {
    const char *name; /* NUL-terminated member name, or NULL for an index */
    size_t index;
} ks_path_segment;

typedef struct ks_path {
    char *text; /* owned: the member names, NUL-terminated one after the other */
    ks_path_segment *segments; /* owned */
    size_t count;
} ks_path;

/* What the last Debezium delete of a partition left for its tombstone. */
typedef struct ks_last_delete {
    bool set;
    char *message_key; /* owned raw bytes */
    size_t message_key_len;
    char *key; /* owned record key */
    size_t key_len;
    int64_t event_time_ms;
    char *origin; /* owned; may be NULL */
    int64_t sequence;
} ks_last_delete;

/* Producer timestamps of records handed to the host and not yet committed. */
typedef struct ks_stamp {
    int64_t offset;
    int64_t timestamp_ms;
} ks_stamp;

typedef struct ks_stamps {
    ks_stamp *items; /* ring */
    size_t head, count, capacity;
} ks_stamps;

/*
 * One (topic, partition) this instance has seen. Offsets are Kafka offsets
 * of the NEXT message to read (what a commit names); -1 when unknown.
 */
typedef struct ks_partition {
    char *topic; /* owned */
    int32_t partition;
    bool assigned;
    /* Revoked in the rebalance now in progress: if the same rebalance hands
     * it back, reading resumes at `delivered` (the host still holds and
     * will flush everything before it) instead of the committed offset. */
    bool retained;
    int64_t committed; /* highest offset committed (or found committed) since assignment */
    int64_t acked;     /* highest offset the host acknowledged through commit() */
    int64_t delivered; /* offset after the last message handed to the host (or skipped) */
    /* Offset after the last message that became a record, -1 when none
     * since the assignment: when the host has acknowledged it, the messages
     * skipped after it (Debezium heartbeats...) are done too. */
    int64_t recorded;
    ks_last_delete last_delete;
    ks_stamps stamps;
} ks_partition;

/* 1 ms buckets up to 10 s, then 1 s buckets up to 10 min, then overflow. */
#define KS_LATENCY_FINE 10000
#define KS_LATENCY_COARSE 590
typedef struct ks_latency {
    uint32_t fine[KS_LATENCY_FINE];
    uint32_t coarse[KS_LATENCY_COARSE];
    uint64_t overflow;
    uint64_t count;
    int64_t max_ms;
    int64_t last_gauge_ms;
} ks_latency;

typedef struct ks_state {
    rdapsync_ctx *ctx;
    const ks_config *cfg;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* owned: the consumer queue, read in arrays */
    bool wake_fetcher;       /* librdkafka < 2.1: see wake_fetcher() in source_kafka.c */
    uint64_t since_wake;     /* records taken since the fetcher was last woken */
    ks_path key_path;
    ks_path vv_path; /* vv_field, compiled */
    ks_partition *parts; /* owned array */
    size_t part_count, part_capacity;
    size_t last_part; /* lookup cache */
    bool closing;
    bool fatal;
    char fatal_reason[512];
    int64_t last_warn_ms;
    uint64_t rebalances;
    uint64_t records, bad_records;
    ks_latency *latency; /* owned */
    int64_t lag_gauge_ms; /* monotonic ms of the last consumer_lag gauge */
    char *shell;          /* owned: decode.c's copy of an envelope without its after */
    size_t shell_cap;
    char *last_schema;    /* owned: the last wrapper schema decode.c judged, and its verdict */
    size_t last_schema_len;
    bool last_schema_plain;
} ks_state;

/* client.c: creates s->rk subscribed to the configured topics, or returns
 * -1 with a reason in err. */
int client_open(ks_state *s, char *err, size_t err_size);
/* Leaves the group (the revocation commits what the host acknowledged)
 * and destroys the handle. */
void client_close(ks_state *s);
/* librdkafka configuration from the options (shared with check()). */
rd_kafka_conf_t *client_conf_new(const ks_config *cfg, char *err, size_t err_size);
/* The monotonic clock in ms and the wall clock in ms (producer timestamps). */
int64_t client_now_ms(void);
int64_t client_wall_ms(void);

/* partitions.c */
ks_partition *partitions_find(ks_state *s, const char *topic, int32_t partition);
ks_partition *partitions_get(ks_state *s, const char *topic, int32_t partition); /* adds when new; NULL on OOM */
void partitions_free(ks_state *s);
/* Rebalance callback halves: they fill offsets into `list` / commit. */
void partitions_assign(ks_state *s, rd_kafka_topic_partition_list_t *list);
void partitions_revoke(ks_state *s, const rd_kafka_topic_partition_list_t *list, bool lost);
/* The host's commit(): commits assigned partitions' offsets asynchronously. */
void partitions_commit(ks_state *s, const rdapsync_position *positions, size_t count);
/* Synchronously commits every assigned partition's acknowledged offset (close). */
void partitions_commit_all(ks_state *s);
size_t partitions_assigned_count(const ks_state *s);
/* Sets the gauge consumer_lag: over the assigned partitions, the high
 * watermark librdkafka last saw minus the committed offset (before the
 * first commit: minus the read position). At most twice a second;
 * partitions whose watermark is not known yet count nothing. */
void partitions_report_lag(ks_state *s);
void last_delete_clear(ks_last_delete *d);

/* decode.c: appends the record of `msg` to `batch`: 1; 0 when the message
 * is skipped on purpose (a Debezium message that is not a row change, see
 * decode.c, or a record of an origin in skip_origins) and adds no record; -1 only when the host could not take it
 * (allocation). */
int decode_message(ks_state *s, rdapsync_batch *batch, const rd_kafka_message_t *msg, ks_partition *part);

/* dbz_types.c: converts the columns of `row` (an object; anything else is
 * left alone) in place: Debezium semantic types named by `row_schema` (the
 * JsonConverter struct schema of the row; NULL when schemaless) and the
 * json_fields columns. When column `hand_over` (may be NULL) converts to a
 * JSON object, that object is not set into the row but returned in
 * *handed (the caller owns it; NULL otherwise): a value set into another
 * is built into a tree, and the record's document would then be a tree
 * to dump instead of its validated text. 0, or -1 with err naming the
 * column (and *handed NULL). */
int dbz_convert_row(const ks_config *cfg, const rdapsync_value *row_schema, rdapsync_value *row,
                    const char *hand_over, rdapsync_value **handed, char *err, size_t err_size);
/* The schema of field `name` of a JsonConverter struct schema (borrowed), or NULL. */
const rdapsync_value *dbz_field_schema(const rdapsync_value *struct_schema, const char *name);

/* dbz_types.c: true when dbz_convert_row() would change nothing in any row
 * described by `row_schema` (NULL: schemaless): no json_fields and no
 * field of a named (semantic) type. */
bool dbz_row_plain(const ks_config *cfg, const rdapsync_value *row_schema);

/* jpath.c: "a.b[0].c" (an optional leading "$." is allowed); 0 or -1 with err. */
int jpath_compile(ks_path *path, const char *text, char *err, size_t err_size);
void jpath_free(ks_path *path);
/* The value at the path (borrowed) or NULL. */
rdapsync_value *jpath_find(const ks_path *path, rdapsync_value *root);

/* latency.c */
int stamps_push(ks_stamps *stamps, int64_t offset, int64_t timestamp_ms);
/* Pops every stamp below `offset`, adding now - timestamp to `latency`. */
void stamps_settle(ks_stamps *stamps, int64_t offset, ks_latency *latency, int64_t now_wall_ms);
void stamps_clear(ks_stamps *stamps);
void stamps_free(ks_stamps *stamps);
/* The q-quantile (0..1) in ms, or -1 when empty. */
int64_t latency_quantile(const ks_latency *latency, double q);
void latency_report(ks_state *s, bool final);

#endif
