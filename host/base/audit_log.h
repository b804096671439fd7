/*
 * The audit trail's writer (config `audit:`, docs/compliance.md): one JSON
 * line per event, hash-chained (audit_chain.h), optionally signed.
 *
 * Every append takes a mutex (task threads) and an exclusive flock() on the
 * file (a `rdapsync erase` next to a running daemon), re-reads the chain
 * head when another writer has appended since, writes the whole line with
 * one write() and fdatasync()s it before returning. A line cut short by a
 * crash has no newline; the next append (from any process) removes it, so
 * a line is whole or absent and the chain resumes from the last whole line.
 */
#ifndef RDAPSYNC_HOST_AUDIT_LOG_H
#define RDAPSYNC_HOST_AUDIT_LOG_H

#include <stddef.h>

#include <jansson.h>

#include "base/audit_chain.h"

typedef struct audit_log audit_log;

/* Opens (creating, mode 0600) the trail at `path`. `key` (key_len bytes)
 * keys the subject hashes; `sign_key_pem` (may be NULL) is an Ed25519
 * private key whose signature of its hash every line then carries. NULL
 * with a reason in err. Close with audit_log_close(). */
audit_log *audit_log_open(const char *path, const unsigned char *key, size_t key_len, const char *sign_key_pem,
                          char *err, size_t err_size);
void audit_log_close(audit_log *log);

/* Appends the event `event` with the members of `fields` (borrowed; may be
 * NULL) after "seq", "time" and "event". Any thread. 0, or -1 with a reason
 * in err (the line is then absent). */
int audit_log_append(audit_log *log, const char *event, json_t *fields, char *err, size_t err_size);

/* The keyed hash of `subject` under the trail's key: the only form in
 * which a data subject appears in the trail. 0 or -1. */
int audit_log_subject_hash(const audit_log *log, const char *subject, char out[AUDIT_HASH_HEX]);

#endif
