/*
 * Delivery tracking of the batch being written: every produced message
 * carries (generation, index) as its opaque, and its delivery report moves
 * the record to delivered, rejected (it can never be stored) or back to
 * unsent (a transient failure: the next write() of the same batch sends it
 * again). Reports run inside rd_kafka_poll() on the task thread.
 */
#include "sink_kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H kk_host

_Static_assert(sizeof(uintptr_t) >= 8, "the delivery tag packs two 32-bit numbers into a pointer");

void delivery_reset(kk_state *s)
{
    kk_batch *b = &s->current;

    for (size_t i = 0; b->reasons && i < b->count; i++)
        free(b->reasons[i]);
    free(b->reasons);
    free(b->slots);
    memset(b, 0, sizeof(*b));
}

int delivery_begin(kk_state *s, const rdapsync_batch *batch)
{
    kk_batch *b = &s->current;
    size_t n = H->batch_count(batch);
    const rdapsync_record *first = n ? H->batch_get(batch, 0) : NULL;
    const rdapsync_record *last = n ? H->batch_get(batch, n - 1) : NULL;

    if (b->batch == batch && b->count == n && b->first == first && b->last == last) {
        b->failed = 0;
        b->first_failure[0] = '\0';
        return 0;
    }
    delivery_reset(s);
    b->batch = batch;
    b->count = n;
    b->first = first;
    b->last = last;
    b->generation = ++s->next_generation;
    b->slots = calloc(n ? n : 1, 1);
    b->reasons = calloc(n ? n : 1, sizeof(char *));
    if (!b->slots || !b->reasons) {
        delivery_reset(s);
        return -1;
    }
    return 0;
}

void *delivery_tag(const kk_state *s, size_t index)
{
    return (void *)(((uintptr_t)s->current.generation << 32) | (uintptr_t)(uint32_t)index);
}

void delivery_reject(kk_state *s, size_t index, const char *reason)
{
    kk_batch *b = &s->current;

    b->slots[index] = KK_REJECTED;
    free(b->reasons[index]);
    b->reasons[index] = strdup(reason); /* NULL on OOM: reported with a generic reason */
}

/* Errors that no retry can fix for this one message. */
static bool record_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        return true;
    default:
        return false;
    }
}

/* Errors that no retry can fix for any message: the task fails. */
static bool task_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        return true;
    default:
        return false;
    }
}

void delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    kk_state *s = opaque;
    kk_batch *b = &s->current;
    uintptr_t tag = (uintptr_t)msg->_private;
    uint32_t generation = (uint32_t)(tag >> 32);
    size_t index = (size_t)(uint32_t)tag;

    /* The payload is the JSON text write() made with host->json->dump. */
    H->free(msg->payload);
    if (generation != b->generation || index >= b->count || b->slots[index] != KK_IN_FLIGHT)
        return;
    b->in_flight--;
    if (!msg->err) {
        b->slots[index] = KK_DELIVERED;
        return;
    }
    char reason[256];
    snprintf(reason, sizeof(reason), "topic %s: delivery failed: %s", rd_kafka_topic_name(msg->rkt),
             rd_kafka_err2str(msg->err));
    if (record_permanent(msg->err)) {
        delivery_reject(s, index, reason);
        return;
    }
    if (task_permanent(msg->err) || msg->err == RD_KAFKA_RESP_ERR__FATAL) {
        b->fatal = true;
        if (msg->err == RD_KAFKA_RESP_ERR__FATAL)
            rd_kafka_fatal_error(rk, b->fatal_reason, sizeof(b->fatal_reason));
        else
            snprintf(b->fatal_reason, sizeof(b->fatal_reason), "%s", reason);
    }
    b->slots[index] = KK_UNSENT;
    if (b->failed++ == 0)
        snprintf(b->first_failure, sizeof(b->first_failure), "%s", reason);
}
