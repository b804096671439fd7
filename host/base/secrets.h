/*
 * Secret values and ${env:NAME} / ${file:PATH} references.
 *
 * Registered here once, and never printed: the resolved value of every
 * SECRET option (whole, and each value referenced inside it), of every map
 * entry whose key names a credential (sasl.password, ...), and every value
 * that came from ${file:} (a file reference is how secrets are passed). A
 * plain ${env:} value of an option that is not secret is not registered:
 * masking a port or a host name everywhere garbled every log line that
 * mentioned it and protected nothing. The logger and the diagnostics pass
 * their text through secrets_mask(). The list is process-wide and
 * thread-safe (the logger masks from task threads while a reload may
 * register new values).
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

/* True if an option or map key named `name` holds a credential by its
 * name: password, passwd, pwd, secret, token, credential, api key, private
 * key, a PEM key, SASL/JAAS configuration (any case, anywhere in the name). */
bool secrets_is_credential_name(const char *name);

/*
 * Expands references in `text`: "${env:NAME}" becomes the environment
 * variable, "${file:PATH}" the file's contents less one trailing newline
 * (PATH relative to the working directory), "$${" a literal "${". Values
 * from ${file:} are registered as secrets; with `secret` (the text belongs
 * to a secret option) every substituted value is. Registering the whole
 * result is the caller's business.
 * On success returns 0, *out is a malloc'd string (caller frees) and
 * *had_reference tells whether a reference was substituted. On failure
 * returns -1 and writes a reason into err that names the variable or file
 * but never a value.
 */
int secrets_expand(const char *text, bool secret, char **out, bool *had_reference, char *err, size_t err_size);

#endif
