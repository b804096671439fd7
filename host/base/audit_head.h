/*
 * The head of an audit trail: the last whole line's sequence number and
 * hash, read back from the file so a restarted (or another) writer goes on
 * with the same chain (audit_log.c).
 */
#ifndef RDAPSYNC_HOST_AUDIT_HEAD_H
#define RDAPSYNC_HOST_AUDIT_HEAD_H

#include <stdint.h>
#include <stddef.h>

#include "base/audit_chain.h"

typedef struct audit_head {
    int64_t seq;                     /* of the last line; 0 when the trail is empty */
    char hash[AUDIT_HASH_HEX];       /* of the last line; AUDIT_GENESIS when empty */
    char next_hash[AUDIT_HASH_HEX];  /* scratch: the hash of the line being written */
} audit_head;

/* Reads the head of the trail open on fd (read-write, locked by the
 * caller). A last line without its newline (a write cut short) is cut off
 * the file first. -1 with a reason when the last whole line is not a trail
 * line: the writer refuses to chain onto what it cannot read. */
int audit_head_read(int fd, audit_head *head, char *err, size_t err_size);

#endif
