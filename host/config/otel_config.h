/* The configuration's `otel:` block, validated into otel_settings (the
 * exporter, otel.h, takes them at start). */
#ifndef RDAPSYNC_HOST_OTEL_CONFIG_H
#define RDAPSYNC_HOST_OTEL_CONFIG_H

#include <stddef.h>

#include "base/diag.h"
#include "config/yaml_tree.h"

typedef struct otel_settings {
    char *endpoint;      /* owned; NULL: tracing off. Base URL, /v1/traces is appended */
    char *service_name;  /* owned; NULL: "rdapsync" */
    double sample_ratio; /* 0..1: share of records that get a span of their own */
    char **header_names; /* owned arrays of header_count owned strings; values may be secrets */
    char **header_values;
    size_t header_count;
} otel_settings;

/* Frees what *s owns and zeroes it. */
void otel_settings_free(otel_settings *s);

/* Fills *out from `node` (NULL or a YAML null: tracing off). Errors go to
 * diags with their file:line:column; what could be read is kept (the
 * caller fails the load on any error). Free with otel_settings_free(). */
void otel_config_load(const ynode *node, const char *file, diag_list *diags, otel_settings *out);

#endif
