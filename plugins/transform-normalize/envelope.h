/*
 * Change envelopes around an RDAP document, for sources that hand them over
 * unopened (a Kafka topic in raw mode):
 *   rdapsync: {"key": K, "op": "upsert"|"delete", "ts_ms": T, "origin": O, "seq": S, "value": RDAP|null}
 *   Debezium: {"payload": {...}} or {"op": "c"|"u"|"r"|"d", "before": ..., "after": ..., "ts_ms": T}
 * A document with objectClassName is never an envelope.
 */
#ifndef RDAPSYNC_ENVELOPE_H
#define RDAPSYNC_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

typedef struct envelope {
    bool present;
    rdapsync_op op;
    rdapsync_value *value; /* the RDAP document (borrowed from the envelope); NULL for deletes */
    const char *key;       /* borrowed; NULL when the envelope has none */
    size_t key_len;
    bool has_version;
    int64_t ts_ms;
    const char *origin; /* borrowed; may be NULL */
    bool has_seq;       /* seq given (else the record keeps its sequence) */
    int64_t seq;
} envelope;

/* Fills *out (present false for a bare document). -1 with err "PATH: reason"
 * for an envelope of the wrong shape. */
int envelope_read(const rdapsync_json_api *json, rdapsync_value *doc, envelope *out, char *err, size_t err_size);

#endif
