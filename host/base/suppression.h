/*
 * The suppression list ("erased stays erased", config `compliance:`,
 * docs/compliance.md): the data subjects that were erased, each as
 * hex(HMAC-SHA-256(key, "KIND:NORMAL")) where NORMAL is the subject's
 * compare form (rdapsync_sinktk_subject_prepare), so no subject is ever
 * stored in clear and the list is useless without the key.
 *
 * The file holds one 64-hex-digit line per subject. Adding appends a whole
 * line under an exclusive flock() and fsync()s it; a line cut short by a
 * crash is ignored when read and rewritten by the next add. Readers load
 * it into memory and load it again when its size changes (an erase run by
 * another process while a daemon runs).
 */
#ifndef RDAPSYNC_HOST_SUPPRESSION_H
#define RDAPSYNC_HOST_SUPPRESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "base/audit_chain.h"

typedef struct suppression_list suppression_list;

/* Opens the list at `path` (created empty, mode 0600, when missing) keyed
 * with key (key_len bytes, copied). NULL with a reason in err. */
suppression_list *suppression_open(const char *path, const unsigned char *key, size_t key_len, char *err,
                                   size_t err_size);
void suppression_close(suppression_list *list);

/* The list's keyed hash of "kind:normal". 0 or -1. */
int suppression_hash(const suppression_list *list, const char *kind, const char *normal, char out[AUDIT_HASH_HEX]);

/* Adds kind:normal (nothing when already there). 0, or -1 with err. */
int suppression_add(suppression_list *list, const char *kind, const char *normal, char *err, size_t err_size);

/* Whether kind:normal is on the list as last read. Any thread. */
bool suppression_contains(suppression_list *list, const char *kind, const char *normal);
/* Reads the file again if it changed since (an erase by another process).
 * On failure the list as last read stays. */
void suppression_refresh(suppression_list *list);

/* Changes whenever the list as read changes (a cache of lookups keys on it). */
unsigned suppression_generation(suppression_list *list);

/* How many subjects are on the list. */
size_t suppression_count(suppression_list *list);

#endif
