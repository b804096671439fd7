/* The top-level `plugins:` section of the configuration (plugin_pins.h). */
#ifndef RDAPSYNC_HOST_CONFIG_PINS_H
#define RDAPSYNC_HOST_CONFIG_PINS_H

#include "base/diag.h"
#include "loader/loader.h"
#include "config/yaml_tree.h"

/*
 * Reads `plugins: { KIND-NAME: { sha256: HEX }, ... }` (`node` may be NULL:
 * no pins) and gives the pins to the registry, so that they are checked
 * whenever a plugin is loaded from then on. Reports, with file:line:column:
 * a malformed section or digest; a KIND-NAME with no file on the search
 * path (with the nearest one as "did you mean"); and a file whose SHA-256
 * differs from its pin, whether or not a pipeline uses it (validate names
 * every mismatch). Call it after the search path is complete, before any
 * plugin is loaded.
 */
void config_pins_load(const char *file, const ynode *node, plugin_registry *registry, diag_list *diags);

#endif
