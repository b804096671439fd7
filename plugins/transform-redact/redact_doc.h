/*
 * The pure logic of the redact transform: one document, redacted in place
 * by a policy. Raw RDAP (jCard in entities at any depth, bare or inside an
 * envelope) and unified documents (normalize's output) alike.
 */
#ifndef RDAPSYNC_REDACT_DOC_H
#define RDAPSYNC_REDACT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "policy.h"

typedef struct redact_result {
    rclass classification; /* from what the document held before redaction */
    size_t redactions;     /* RFC 9537 entries written */
    size_t by_field[RF_COUNT + 1]; /* the same per field; [RF_COUNT]: other jCard properties */
    bool unified;          /* the document was a unified one */
} redact_result;

/*
 * Redacts `doc` in place (the caller owns it and must not share it with
 * anything that should keep the original). -1 with err "PATH: reason" when
 * the document has a shape that could hide personal data from the walk
 * (a malformed jCard, nesting beyond max_depth); the document may then be
 * half redacted and must not be passed on.
 */
int redact_document(const rdapsync_json_api *json, const policy *policy, rdapsync_value *doc, int max_depth,
                    redact_result *result, char *err, size_t err_size);

/*
 * RFC 3339 UTC of base_ms plus the policy's retention days for `c`, into buf
 * ("2026-03-16T09:30:45Z"). False when the policy sets no deadline.
 */
/* The counter a redaction of field `f` (RF_COUNT: another jCard property)
 * is counted under: "redactions_<field>", a static string. The host sums
 * these per batch into the audit trail (counts only, never values). */
const char *redact_field_counter(int f);

bool redact_retention_until(const policy *policy, rclass c, int64_t base_ms, char *buf, size_t size);

/*
 * The classification and retention metadata in the document itself: for a
 * unified document in its "rdapsync" member (classification,
 * retention_until, policy); for raw RDAP as a notice, which keeps it valid
 * RDAP. `retention_until` may be NULL. 0 or -1 (allocation).
 */
int redact_annotate(const rdapsync_json_api *json, rdapsync_value *doc, const policy *policy,
                    const redact_result *result, const char *retention_until);

#endif
