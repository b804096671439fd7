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

#include <stddef.h>

#include <rdapsync/rdapsync.h>

typedef struct loaded_plugin {
    char *path;                    /* owned: the file it came from */
    void *handle;                  /* dlopen handle */
    const rdapsync_plugin *desc;   /* borrowed from the .so: valid until unload */
    char *trust_warning;           /* owned: why plugin_trust_check() refused the file, when
                                    * --insecure-plugin-path loaded it anyway; else NULL */
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
 * returns NULL and writes a one-line reason into err. */
const loaded_plugin *registry_get(plugin_registry *registry, rdapsync_kind kind, const char *name, char *err,
                                  size_t err_size);
/* Loads one file and checks it; kind 0 accepts any kind, name NULL any name.
 * Ignores SIGPIPE for the whole process first (loader_ignore_sigpipe).
 * Caller frees with loader_unload(). */
loaded_plugin *loader_load(const char *path, rdapsync_kind kind, const char *name, char *err, size_t err_size);
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

/* The host services table given to every plugin (host_api.c). */
const rdapsync_host *host_api_table(void);

#endif
