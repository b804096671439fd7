/* The configuration's `otel:` block, validated into otel_settings. */
#ifndef RDAPSYNC_HOST_OTEL_CONFIG_H
#define RDAPSYNC_HOST_OTEL_CONFIG_H

#include "diag.h"
#include "otel.h"
#include "yaml_tree.h"

/* Fills *out from `node` (NULL or a YAML null: tracing off). Errors go to
 * diags with their file:line:column; what could be read is kept (the
 * caller fails the load on any error). Free with otel_settings_free(). */
void otel_config_load(const ynode *node, const char *file, diag_list *diags, otel_settings *out);

#endif
