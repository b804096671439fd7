/* Helpers for the configuration tests: YAML in a temp file, loaded against
 * the fixture plugins, and assertions on the diagnostics. */
#ifndef RDAPSYNC_TEST_CONFIG_UTIL_H
#define RDAPSYNC_TEST_CONFIG_UTIL_H

#include "config.h"
#include "diag.h"
#include "loader.h"

typedef struct loaded {
    char path[64];
    plugin_registry *registry;
    diag_list diags;
    rdapsync_config *config; /* NULL when errors were found */
} loaded;

/* A file with `text`; returns its path in `path` (64 bytes). */
void write_temp(char *path, const char *suffix, const char *text);
void load_yaml(loaded *l, const char *yaml);
void loaded_free(loaded *l);
/* The diagnostic at line:column whose message contains `text`, or NULL. */
const diag *find_diag(const loaded *l, int line, int column, const char *text);
/* Asserts such a diagnostic exists with that severity (prints all if not). */
void expect_diag(const loaded *l, diag_severity severity, int line, int column, const char *text);
#define expect_error(l, line, column, text) expect_diag(l, DIAG_ERROR, line, column, text)
#define expect_warning(l, line, column, text) expect_diag(l, DIAG_WARNING, line, column, text)
/* True if any diagnostic's message contains text. */
int any_diag_contains(const loaded *l, const char *text);
/* The valid minimal pipeline file used as a base (10 lines). */
extern const char *const minimal_yaml;

#endif
