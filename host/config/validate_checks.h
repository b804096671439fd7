/*
 * Checks beyond the schema, run by config_load() on every pipeline: things
 * that are valid but probably wrong or unsafe. Each adds a warning with a
 * short check id (`rdapsync validate --strict` turns them into errors),
 * except "dead-letter-missing" which is always an error: under
 * errors.tolerance all without a dead-letter sink a bad record would vanish.
 *
 * Check ids: literal-secret, insecure-transport, no-redact,
 * dead-letter-missing, dead-letter-unused, absurd-value,
 * tasks-exceed-inputs, input-missing.
 */
#ifndef RDAPSYNC_HOST_VALIDATE_CHECKS_H
#define RDAPSYNC_HOST_VALIDATE_CHECKS_H

#include "base/diag.h"
#include "config/config.h"

/* `pipeline` may be partly built (plugins NULL after lookup errors);
 * `node` is its YAML mapping, for the places of the findings. Parts in
 * which an error was reported (pipeline->flawed, plugin_block flawed) get
 * no check. */
void validate_checks_pipeline(const char *file, const pipeline_config *pipeline, const ynode *node,
                              diag_list *diags);

#endif
