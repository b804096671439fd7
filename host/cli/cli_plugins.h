/* `rdapsync plugins`: every plugin on the search path with its option table. */
#ifndef RDAPSYNC_HOST_CLI_PLUGINS_H
#define RDAPSYNC_HOST_CLI_PLUGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "loader/loader.h"

/* Prints the plugins whose name or "kind-name" is in `filters` (all when
 * filter_count is 0) as text, or as one JSON document with a JSON schema of
 * each plugin's config. Files that cannot be loaded are reported on stderr
 * (and in the JSON "errors" array). Returns an exit code: 0, or 3 when a
 * filter matched nothing. */
int cli_plugins_print(plugin_registry *registry, bool json, const char *const *filters, size_t filter_count,
                      FILE *out);

#endif
