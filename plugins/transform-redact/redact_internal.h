/* The two walks of a redaction pass (redact_rdap.c, redact_unified.c). */
#ifndef RDAPSYNC_REDACT_INTERNAL_H
#define RDAPSYNC_REDACT_INTERNAL_H

#include "rx.h"

/* Raw RDAP anywhere in doc (bare, in an envelope, in a list). 0 or -1. */
int redact_raw(rx *x, rdapsync_value *doc, int depth);
/* The members of doc walked as raw RDAP (doc itself is not an RDAP root);
 * entries stay in x->entries. 0 or -1. */
int redact_raw_members(rx *x, rdapsync_value *doc);
/* A unified document (normalize's output), its `raw` member included. 0 or -1. */
int redact_unified(rx *x, rdapsync_value *doc);

#endif
