/*
 * Structured options (RDAPSYNC_OPT_JSON, ABI 1.3): a YAML value as one JSON
 * text for the plugin, and the way back from a place inside it to the YAML
 * node, so a plugin's check() can name file:line:column.
 */
#ifndef RDAPSYNC_HOST_OPTIONS_JSON_H
#define RDAPSYNC_HOST_OPTIONS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "config/yaml_tree.h"

/*
 * The JSON text of `node` (rules in rdapsync/options.h), with ${env:}/
 * ${file:} references expanded (values registered as secrets when
 * `secret`). Caller frees. NULL with a reason in err, and *at (may be NULL)
 * set to the offending node.
 */
char *options_json_from_yaml(const ynode *node, bool secret, const ynode **at, char *err, size_t err_size);

/*
 * A check() reason of the form "@PATH: text": returns the node PATH names
 * inside `config` (`name`, `name[2]`, `a.b[0].c`) and sets *rest to the
 * text after the prefix. NULL (and *rest = reason) when the reason has no
 * such prefix or PATH names no node.
 */
const ynode *options_json_locate(const ynode *config, const char *reason, const char **rest);

#endif
