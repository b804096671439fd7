/*
 * Sources' `skip_origins` option: records whose version origin is listed
 * are not emitted, so that the pipeline carrying region B's changes to
 * region A does not carry A's own changes back (docs/multi-region.md). A
 * skipped record's position is still consumed: the source moves on, and
 * the next record it emits (or its commit) covers the offset.
 */
#ifndef RDAPSYNC_PLUGINS_ORIGIN_SKIP_H
#define RDAPSYNC_PLUGINS_ORIGIN_SKIP_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

/* The option row, for a source's table; `field` is an rdapsync_string_list. */
#define ORIGIN_SKIP_OPTION(config_type, field)                                                                \
    {"skip_origins", RDAPSYNC_OPT_LIST, 0, NULL, 0, 0, NULL, offsetof(config_type, field),                  \
     "version origins (regions) whose records are not emitted, for bi-directional sync without echoes; "     \
     "counted in rdapsync_plugin_origins_skipped_total"}

/* The counter skipped records add to (rdapsync_plugin_<name>_total). */
#define ORIGIN_SKIP_COUNTER "origins_skipped"

/* True when `origin` (NULL: none, never skipped) is one of `list`. */
bool origin_skipped(const rdapsync_string_list *list, const char *origin);

#endif
