/*
 * The text a redaction leaves behind: RFC 9537's emptyValue, partialValue
 * and replacementValue applied to one string value. Removal is structural
 * and handled by the callers.
 */
#ifndef RDAPSYNC_MASK_H
#define RDAPSYNC_MASK_H

#include <stddef.h>

#include "policy.h"

/*
 * The redacted form of the len bytes at `in` for `field` under rule `r`
 * (method emptyValue, partialValue or replacementValue; removal gives "").
 * partialValue keeps, by field: email the first `keep` (1) characters of the
 * local part and the domain; phone/fax every non-digit and the first `keep`
 * (0) digits; name the initials; contact_uri the scheme and the email or
 * phone rule's part; anything else the first `keep` (1) characters, spaces
 * and punctuation. Characters are UTF-8 code points; '*' masks.
 * Returns a malloc'd NUL-terminated string (caller frees) and its length in
 * *out_len, or NULL on allocation failure.
 */
char *mask_value(const rrule *r, rfield field, const char *in, size_t len, size_t *out_len);

/* True for values that carry nothing: empty, or a placeholder such as
 * "REDACTED FOR PRIVACY" (any text starting with "redacted", any case). */
int mask_is_placeholder(const char *s, size_t len);

#endif
