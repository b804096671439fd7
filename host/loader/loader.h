/*
 * Finding, loading and checking plugins.
 *
 * A plugin named N of kind K is the file "K-N.so" in the first directory of
 * the search path that has it. The loader first checks who may write the
 * file and the directories above it (plugin_trust.h), then dlopen()s it with RTLD_NOW |
 * RTLD_LOCAL, resolves RDAPSYNC_ENTRY_SYMBOL, calls it with the host table,
 * and refuses (with a message naming the field) a NULL descriptor, a short
 * struct_size, a different ABI major, a newer ABI minor, a wrong kind or
 * name, a missing mandatory callback for the kind, or a malformed option
 * table.
 */
#ifndef RDAPSYNC_HOST_LOADER_H
#define RDAPSYNC_HOST_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "loader/plugin_pins.h"

typedef struct loaded_plugin {
    char *path;                    /* owned: the file it came from */
    void *handle;                  /* dlopen handle */
    const rdapsync_plugin *desc;   /* borrowed from the .so: valid until unload */
    char *trust_warning;           /* owned: why plugin_trust_check() refused the file, when
                                    * --insecure-plugin-path loaded it anyway; else NULL */
    unsigned char sha256[PLUGIN_SHA256_SIZE]; /* of the file, read right before dlopen() */
} loaded_plugin;

typedef struct plugin_registry plugin_registry;

/* Search path: `dirs` in order, then $RDAPSYNC_PLUGIN_PATH (colon list), then
 * "<dir of the executable>/plugins", "<dir of the executable>/../lib/rdapsync/plugins",
 * "<dir of the executable>/../plugins" (the build tree: build/host/rdapsync
 * finds build/plugins) and RDAPSYNC_DEFAULT_PLUGIN_DIR. Caller frees with registry_free(), which
 * dlcloses every plugin (after every instance has been closed). */
plugin_registry *registry_new(const char *const *dirs, size_t dir_count);
void registry_free(plugin_registry *registry);
/* Adds directories to the front of the search path (config plugin_path),
 * right after the `dirs` given to registry_new() (the CLI's --plugin-path
 * stays first); directories already on the path are not added again.
 * The registry is used from one thread (the main thread). */
void registry_prepend_path(plugin_registry *registry, const char *const *dirs, size_t count);

/* Finds (loading once, then cached) plugin `name` of `kind`. On failure
 * returns NULL and writes a one-line reason into err. A plugin with a pin
 * (registry_set_pins) is refused, before dlopen(), when its file's SHA-256
 * differs; a cached one when the file it was loaded from did. */
const loaded_plugin *registry_get(plugin_registry *registry, rdapsync_kind kind, const char *name, char *err,
                                  size_t err_size);
/* Replaces the registry's SHA-256 pins (copied). 0, or -1 when out of
 * memory (the old pins are kept). */
int registry_set_pins(plugin_registry *registry, const plugin_pin *pins, size_t count);
/* Whether a plugin file "STEM.so" (e.g. "sink-redis") is on the search
 * path: 1 with its path, else 0 and, in `meant` (SPELLING_MAX + 1 bytes),
 * the nearest existing stem or "". */
int registry_find_stem(const plugin_registry *registry, const char *stem, char *path, size_t path_size,
                       char *meant);

/* Loads one file and checks it; kind 0 accepts any kind, name NULL any name.
 * Ignores SIGPIPE for the whole process first (loader_ignore_sigpipe).
 * Caller frees with loader_unload(). */
loaded_plugin *loader_load(const char *path, rdapsync_kind kind, const char *name, char *err, size_t err_size);
/* The same, refusing the file before dlopen() when `pin` is not NULL and
 * the file's SHA-256 differs from it. */
loaded_plugin *loader_load_pinned(const char *path, rdapsync_kind kind, const char *name, const plugin_pin *pin,
                                  char *err, size_t err_size);
void loader_unload(loaded_plugin *plugin);
/* Sets SIGPIPE to SIG_IGN for the process, so that a write to a closed
 * socket or pipe fails with EPIPE instead of killing it (why: loader.c).
 * loader_load() calls it; so does anything that dlopen()s other code. */
void loader_ignore_sigpipe(void);

/* Every plugin file on the search path, loaded (for `rdapsync plugins`);
 * files that fail are reported through `on_error` (the reason does not
 * repeat the path). Calls `fn` in path order; a kind+name already seen in an
 * earlier directory is skipped (the first one wins, as for registry_get). */
void registry_each(plugin_registry *registry, void (*fn)(const loaded_plugin *plugin, void *opaque),
                   void (*on_error)(const char *path, const char *reason, void *opaque), void *opaque);

/* The descriptor's flags (RDAPSYNC_TRANSFORM_*), 0 for a plugin built
 * against ABI 1.0, whose descriptor ends before them. */
uint32_t loader_plugin_flags(const rdapsync_plugin *desc);

/* Whether the descriptor is a sink's with room for the ABI 1.5 subject
 * and retention calls (each may still be NULL). */
bool loader_has_subject_ops(const rdapsync_plugin *desc);

/* The host services table given to every plugin (host_api.c). */
const rdapsync_host *host_api_table(void);

#endif
