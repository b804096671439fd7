/* The process's audit trail (audit.h). */
#include "base/audit.h"

#include <pthread.h>

#include "base/audit_log.h"
#include "base/log.h"

/* Set before the tasks start and cleared after they end. */
static audit_log *trail;

int audit_start(const char *path, const unsigned char *key, size_t key_len, const char *sign_key_pem, char *err,
                size_t err_size)
{
    audit_log *log = audit_log_open(path, key, key_len, sign_key_pem, err, err_size);
    if (!log)
        return -1;
    audit_log_close(trail);
    trail = log;
    return 0;
}

void audit_stop(void)
{
    audit_log_close(trail);
    trail = NULL;
}

bool audit_active(void) { return trail != NULL; }

int audit_event(const char *event, json_t *fields)
{
    char err[512];
    int rc = 0;
    if (trail && audit_log_append(trail, event, fields, err, sizeof(err)) < 0) {
        log_error("audit: %s event not written: %s", event, err);
        rc = -1;
    }
    json_decref(fields);
    return rc;
}

int audit_subject(const char *subject, char out[AUDIT_HASH_HEX])
{
    return trail ? audit_log_subject_hash(trail, subject, out) : -1;
}
