/*
 * `rdapsync erase`, `access` and `retention` (docs/compliance.md): every
 * sink and dead-letter sink of every pipeline of a configuration, reached
 * through their ABI 1.5 calls (runtime/sink_access.h), with a report per
 * sink on stdout and one line in the audit trail.
 */
#ifndef RDAPSYNC_HOST_COMPLIANCE_CMD_H
#define RDAPSYNC_HOST_COMPLIANCE_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "loader/loader.h"

typedef enum compliance_op { COMPLIANCE_ERASE = 0, COMPLIANCE_ACCESS, COMPLIANCE_RETENTION, COMPLIANCE_RESTRICT } compliance_op;

typedef struct compliance_request {
    compliance_op op;
    const char *subject; /* "KIND:VALUE" (erase, access) */
    bool dry_run;        /* erase: count only */
    const char *out;     /* access: the document's file; NULL: `out` */
    bool now;            /* retention: run once now */
} compliance_request;

/* Runs the request on `config`. Returns the exit code: 0 every sink
 * covered, 1 a sink not reached or not able, 3 a bad subject or settings,
 * 4 the audit trail or suppression list cannot be opened. */
int compliance_cmd_run(const rdapsync_config *config, plugin_registry *registry, const compliance_request *req,
                       FILE *out, FILE *err);

#endif
