/* `rdapsync audit verify FILE [--public-key PEM]` (docs/compliance.md). */
#ifndef RDAPSYNC_HOST_AUDIT_CMD_H
#define RDAPSYNC_HOST_AUDIT_CMD_H

#include <stdio.h>

/* Checks the trail at `file` (audit_verify.h), with every line's signature
 * when `public_key_pem` is not NULL. Prints "FILE: ok (...)" to out, or
 * "FILE:LINE: REASON" to err. Returns the exit code: 0 intact, 1 a bad
 * line, 4 the file or key cannot be read. */
int audit_cmd_verify(const char *file, const char *public_key_pem, FILE *out, FILE *err);

#endif
