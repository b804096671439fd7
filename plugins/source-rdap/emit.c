/*
 * Finished fetches into records. Each record gets the next sequence number
 * as its position's offset; the object's new state goes into the pending
 * table under that number and becomes its committed state only when the
 * host commits the position (store.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "source_rdap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H source_rdap_host

static void replace(char **slot, char **with)
{
    free(*slot);
    *slot = *with;
    *with = NULL;
}

/* 0, or -1 when the host could not take the record. */
static int add_record(rdap_source *s, rdapsync_batch *batch, outcome *oc, int64_t seq)
{
    rdapsync_record *r = H->record_add(batch);
    const char *id = s->objects[oc->object].spec.id;
    if (!r)
        return -1;
    if (H->record_set_position(batch, r, RDAP_STREAM, -1, seq) != 0 ||
        H->record_add_header(batch, r, "rdap.url", oc->url, strlen(oc->url)) != 0 ||
        H->record_add_header(batch, r, "rdap.object", id, strlen(id)) != 0)
        return -1;
    if (oc->kind == OUT_BAD)
        return H->record_set_bad(batch, r, oc->raw, oc->raw_len, oc->reason);
    if (H->record_set_key(batch, r, oc->key, strlen(oc->key)) != 0 ||
        H->record_set_version(batch, r, oc->event_ms, NULL, seq) != 0)
        return -1;
    if (oc->kind == OUT_DELETE)
        return H->record_set_op(batch, r, RDAPSYNC_OP_DELETE);
    rdapsync_value *doc = oc->doc;
    oc->doc = NULL;
    return H->record_set_value(batch, r, doc);
}

long emit_ready(rdap_source *s, rdapsync_batch *batch, char *err, size_t err_size)
{
    long added = 0;

    while (s->ready_len > 0 && H->batch_room(batch) > 0) {
        outcome *oc = &s->ready[s->ready_head];
        rdap_object *o = &s->objects[oc->object];
        int64_t seq = s->seq + 1;
        if (add_record(s, batch, oc, seq) != 0) {
            snprintf(err, err_size, "%s: the host could not take the record (out of memory)", o->spec.id);
            return -1;
        }
        s->seq = seq;
        if (oc->kind != OUT_BAD) {
            memcpy(o->hash, oc->hash, 32);
            o->has_hash = true;
            o->deleted = oc->kind == OUT_DELETE;
            replace(&o->key, &oc->key);
            if (oc->kind == OUT_DELETE) {
                free(o->etag);
                free(o->last_modified);
                o->etag = o->last_modified = NULL;
            } else {
                replace(&o->etag, &oc->etag);
                replace(&o->last_modified, &oc->last_modified);
            }
            o->fetched_ms = oc->fetched_ms;
            o->pending_seq = seq;
            /* The row carries the due time computed at the fetch. */
            int64_t due = o->next_due;
            o->next_due = oc->next_due;
            if (store_put_pending(s, seq, o) != 0)
                H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s: pending state not saved: %s", o->spec.id,
                       sqlite3_errmsg(s->store.db));
            o->next_due = due;
            H->counter_add(s->ctx, oc->kind == OUT_DELETE ? "objects_deleted" : "objects_changed", 1);
        }
        outcome_free(oc);
        s->ready_head = (s->ready_head + 1) % s->ready_cap;
        s->ready_len--;
        added++;
    }
    return added;
}
