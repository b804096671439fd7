/*
 * Checking an audit trail (`rdapsync audit verify`): every line whole,
 * numbered in order, chained to the one before, its hash the hash of its
 * entry, and with a public key, signed.
 */
#ifndef RDAPSYNC_HOST_AUDIT_VERIFY_H
#define RDAPSYNC_HOST_AUDIT_VERIFY_H

#include <stdint.h>

#include "base/audit_chain.h"

typedef struct audit_verdict {
    int64_t lines;             /* whole lines read */
    int64_t bad_line;          /* 1-based number of the first bad line; 0 when all are good */
    char reason[256];          /* why bad_line is bad (or why the file could not be read) */
    char head[AUDIT_HASH_HEX]; /* the hash of the last good line */
    int64_t signed_lines;      /* lines whose signature was checked */
} audit_verdict;

/* 0 when the trail at `path` is intact, 1 when a line is bad (named in
 * *out), -1 when it cannot be read. `public_key` may be NULL: signatures
 * are then not checked; with it every line must carry a good one. */
int audit_verify_file(const char *path, audit_key *public_key, audit_verdict *out);

#endif
