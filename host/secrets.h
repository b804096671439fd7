/*
 * Secret values and ${env:NAME} / ${file:PATH} references.
 *
 * Every value that came from a reference, and every resolved value of a
 * SECRET option, is registered here once; the logger and the diagnostics
 * pass their text through secrets_mask() so that none of them is ever
 * printed. The list is process-wide and thread-safe (the logger masks from
 * task threads while a reload may register new values).
 */
#ifndef RDAPSYNC_HOST_SECRETS_H
#define RDAPSYNC_HOST_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

/* Values shorter than this are not masked: masking "1" or "no" everywhere
 * would make every log line unreadable and protects nothing. */
#define SECRETS_MIN_LENGTH 3

/* Remembers `value` (copied) as a secret; NULL, short and known values are
 * ignored. */
void secrets_register(const char *value);
/* Copies `in` into `out` (always NUL-terminated, truncated to out_size)
 * with every registered secret replaced by "***". Returns the length the
 * masked text has (it was truncated if >= out_size), like snprintf. */
size_t secrets_mask(const char *in, char *out, size_t out_size);
/* True if `text` contains a registered secret. */
bool secrets_contains(const char *text);
/* Forgets every secret (tests; process exit). */
void secrets_reset(void);

/*
 * Expands references in `text`: "${env:NAME}" becomes the environment
 * variable, "${file:PATH}" the file's contents less one trailing newline
 * (PATH relative to the working directory), "$${" a literal "${". Every
 * substituted value is registered as a secret.
 * On success returns 0, *out is a malloc'd string (caller frees) and
 * *had_reference tells whether a reference was substituted. On failure
 * returns -1 and writes a reason into err that names the variable or file
 * but never a value.
 */
int secrets_expand(const char *text, char **out, bool *had_reference, char *err, size_t err_size);

#endif
