/*
 * The `kafka` sink's internals, shared by its files (all hidden: the plugin
 * exports only its entry symbol). docs/plugins/sink-kafka.md describes the
 * behaviour; this header the pieces.
 *
 *   sink_kafka.c   descriptor, options, open/close/write/flush
 *   producer.c     the librdkafka idempotent producer and its configuration
 *   delivery.c     one batch in flight: what was sent, delivered, failed
 */
#ifndef RDAPSYNC_SINK_KAFKA_H
#define RDAPSYNC_SINK_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <rdapsync/rdapsync.h>

extern const rdapsync_host *kk_host;

/* Filled by the host from the option table in sink_kafka.c. */
typedef struct kk_config {
    char *brokers;
    char *topic;
    bool version_headers;
    int64_t delivery_timeout_ms;
    rdapsync_string_map properties;
} kk_config;

/* The state of one record of the batch being written. */
enum kk_slot {
    KK_UNSENT = 0,    /* not produced yet (or produced and failed transiently) */
    KK_IN_FLIGHT = 1, /* produced, no delivery report yet */
    KK_DELIVERED = 2, /* the broker has it */
    KK_REJECTED = 3   /* it can never be stored: reported to host->reject */
};

/*
 * The batch being written. A write() that answers RETRY keeps it: the host
 * writes the same batch again, and only records not delivered yet (and not
 * still in flight) are produced again, so a retry adds no duplicates of its
 * own beyond what the broker saw of a failed request.
 */
typedef struct kk_batch {
    const rdapsync_batch *batch; /* identity only; NULL when none */
    const rdapsync_record *first, *last;
    size_t count;
    uint32_t generation; /* delivery reports of older batches are ignored */
    unsigned char *slots; /* owned: enum kk_slot per record */
    char **reasons;       /* owned: per record, why it was rejected (or NULL) */
    size_t in_flight;
    size_t failed; /* transient failures since the last write() */
    char first_failure[256];
    bool fatal;
    char fatal_reason[256];
} kk_batch;

typedef struct kk_state {
    rdapsync_ctx *ctx;
    const kk_config *cfg;
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    kk_batch current;
    uint32_t next_generation;
    int64_t last_warn_ms;
} kk_state;

/* producer.c */
rd_kafka_conf_t *producer_conf_new(const kk_config *cfg, char *err, size_t err_size);
int producer_open(kk_state *s, char *err, size_t err_size);
/* Waits a little for outstanding deliveries, purges the rest, destroys. */
void producer_close(kk_state *s);
int64_t producer_now_ms(void);

/* delivery.c */
/* Starts tracking `batch` unless it is the batch already tracked (a retry);
 * 0 or -1 on allocation failure. */
int delivery_begin(kk_state *s, const rdapsync_batch *batch);
/* Forgets the tracked batch (its late reports are ignored). */
void delivery_reset(kk_state *s);
/* The delivery report callback (librdkafka dr_msg_cb). */
void delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
/* Opaque of record `index` for the current generation, and back. */
void *delivery_tag(const kk_state *s, size_t index);
/* Marks record `index` rejected with a copy of reason. */
void delivery_reject(kk_state *s, size_t index, const char *reason);

#endif
