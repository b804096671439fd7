/*
 * The process's audit trail (config `audit:`): started once by `run` and by
 * the compliance commands, then written from any thread. Without a trail
 * every call is a no-op, so callers need not check.
 */
#ifndef RDAPSYNC_HOST_AUDIT_H
#define RDAPSYNC_HOST_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/audit_chain.h"

/* Opens the trail (audit_log_open()). 0, or -1 with a reason in err. */
int audit_start(const char *path, const unsigned char *key, size_t key_len, const char *sign_key_pem, char *err,
                size_t err_size);
void audit_stop(void);
bool audit_active(void);
/* Appends `event` with `fields` (taken: decref'd here; may be NULL). A
 * failure is logged as an error and returned as -1; 0 without a trail. */
int audit_event(const char *event, json_t *fields);
/* The trail's keyed hash of `subject`; -1 without a trail. */
int audit_subject(const char *subject, char out[AUDIT_HASH_HEX]);

#endif
