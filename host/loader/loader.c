/* Loading one plugin file and checking its descriptor before trusting it. */
#include "loader/loader.h"

#include <ctype.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/options.h"
#include "loader/plugin_trust.h"

#define END_OF(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* The bytes of the descriptor the host reads for each ABI minor: a plugin
 * built against minor N must provide at least this much. */
static const size_t descriptor_size_for_minor[RDAPSYNC_ABI_MINOR + 1] = {
    [0] = END_OF(rdapsync_plugin, flush),
    [1] = END_OF(rdapsync_plugin, flags),
    [2] = END_OF(rdapsync_plugin, options_set_end),
    [3] = END_OF(rdapsync_plugin, transform_commit),
    [4] = END_OF(rdapsync_plugin, transform_commit), /* 1.4 appended to records and the host table only */
    [5] = END_OF(rdapsync_plugin, retention_purge),
};

bool loader_has_subject_ops(const rdapsync_plugin *desc)
{
    return desc->kind == RDAPSYNC_KIND_SINK && desc->struct_size >= END_OF(rdapsync_plugin, retention_purge);
}

uint32_t loader_plugin_flags(const rdapsync_plugin *desc)
{
    return desc->struct_size >= END_OF(rdapsync_plugin, flags) ? desc->flags : 0;
}

static bool valid_plugin_name(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

/* The header fields first, each only after the size proves it is there. */
static int check_abi(const char *path, const rdapsync_plugin *desc, char *err, size_t err_size)
{
    uint32_t size = desc->struct_size;
    if (size < END_OF(rdapsync_plugin, abi_minor)) {
        snprintf(err, err_size, "%s: struct_size %u is too small to hold the ABI version", path, size);
        return -1;
    }
    if (desc->abi_major != RDAPSYNC_ABI_MAJOR) {
        snprintf(err, err_size, "%s: ABI major %u, host supports %d", path, desc->abi_major, RDAPSYNC_ABI_MAJOR);
        return -1;
    }
    if (desc->abi_minor > RDAPSYNC_ABI_MINOR) {
        snprintf(err, err_size, "%s: ABI minor %u is newer than the host's %d.%d (upgrade rdapsync)", path,
                 desc->abi_minor, RDAPSYNC_ABI_MAJOR, RDAPSYNC_ABI_MINOR);
        return -1;
    }
    size_t needed = descriptor_size_for_minor[desc->abi_minor];
    if (size < needed) {
        snprintf(err, err_size, "%s: struct_size %u is smaller than the %zu bytes of ABI %d.%u", path, size, needed,
                 RDAPSYNC_ABI_MAJOR, desc->abi_minor);
        return -1;
    }
    return 0;
}

static int check_identity(const char *path, const rdapsync_plugin *desc, rdapsync_kind kind, const char *name,
                          char *err, size_t err_size)
{
    if (desc->kind != RDAPSYNC_KIND_SOURCE && desc->kind != RDAPSYNC_KIND_TRANSFORM &&
        desc->kind != RDAPSYNC_KIND_SINK) {
        snprintf(err, err_size, "%s: kind %d is not source, transform or sink", path, (int)desc->kind);
        return -1;
    }
    if (kind && desc->kind != kind) {
        snprintf(err, err_size, "%s: kind is %s, expected %s", path, rdapsync_kind_str(desc->kind),
                 rdapsync_kind_str(kind));
        return -1;
    }
    if (!valid_plugin_name(desc->name)) {
        snprintf(err, err_size, "%s: name '%s' is not [a-z0-9_-]+", path, desc->name ? desc->name : "(null)");
        return -1;
    }
    if (name && strcmp(desc->name, name) != 0) {
        snprintf(err, err_size, "%s: name is '%s', expected '%s'", path, desc->name, name);
        return -1;
    }
    return 0;
}

static int check_callbacks(const char *path, const rdapsync_plugin *desc, char *err, size_t err_size)
{
    const char *missing = NULL;
    if (!desc->open)
        missing = "open";
    else if (!desc->close)
        missing = "close";
    else if (desc->kind == RDAPSYNC_KIND_SOURCE && !desc->poll)
        missing = "poll";
    else if (desc->kind == RDAPSYNC_KIND_TRANSFORM && !desc->transform)
        missing = "transform";
    else if (desc->kind == RDAPSYNC_KIND_SINK && !desc->write)
        missing = "write";
    else if (desc->kind == RDAPSYNC_KIND_SINK && !desc->flush)
        missing = "flush";
    if (!missing) {
        /* Subject and retention calls are opened on a sink instance only
         * (host/runtime/sink_access.c); on another kind they would never run. */
        if (desc->kind != RDAPSYNC_KIND_SINK && desc->struct_size >= END_OF(rdapsync_plugin, retention_purge) &&
            (desc->subject_find || desc->subject_erase || desc->retention_purge)) {
            snprintf(err, err_size, "%s: %s plugin '%s' sets subject_find/subject_erase/retention_purge, which are "
                     "for sinks only", path, rdapsync_kind_str(desc->kind), desc->name);
            return -1;
        }
        return 0;
    }
    snprintf(err, err_size, "%s: %s plugin '%s' has no %s callback", path, rdapsync_kind_str(desc->kind), desc->name,
             missing);
    return -1;
}

/*
 * SIGPIPE's default action ends the process. A plugin that writes to a
 * socket whose peer has gone (a server restarted, a proxy timed out)
 * raises it unless it passes MSG_NOSIGNAL to every send, and client
 * libraries such as hiredis do not: a third-party sink killed rdapsync with
 * exit 141 in the middle of a batch. Ignored, the same write fails with
 * EPIPE, which the plugin answers with RETRY like any lost connection
 * (docs/plugin-guide.md).
 *
 * Ignored, not blocked: a blocked SIGPIPE stays pending and kills the
 * process as soon as a thread unblocks it. The disposition is process-wide,
 * so it covers every thread, plugins' own included; the runtime's threads
 * block only SIGTERM/SIGINT/SIGHUP (runtime.c). Children would inherit
 * SIG_IGN across exec; the host starts none.
 *
 * Set here, right before every dlopen(), so that no plugin code (its
 * constructors included) ever runs with the default action, whichever
 * command loads it: run, a reload, validate, plugins, the conformance kit.
 */
void loader_ignore_sigpipe(void)
{
    struct sigaction action;

    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    sigaction(SIGPIPE, &action, NULL);
}

loaded_plugin *loader_load(const char *path, rdapsync_kind kind, const char *name, char *err, size_t err_size)
{
    return loader_load_pinned(path, kind, name, NULL, err, err_size);
}

loaded_plugin *loader_load_pinned(const char *path, rdapsync_kind kind, const char *name, const plugin_pin *pin,
                                  char *err, size_t err_size)
{
    loaded_plugin *plugin = NULL;
    unsigned char sha256[PLUGIN_SHA256_SIZE];
    char distrust[1024] = "";
    /* Before dlopen(): it runs the library's constructors. */
    if (plugin_trust_check(path, distrust, sizeof(distrust)) != 0) {
        if (!plugin_trust_insecure()) {
            snprintf(err, err_size, "%s", distrust);
            return NULL;
        }
        log_warn("%s (loading it anyway: --insecure-plugin-path)", distrust);
    }
    /* Also before dlopen(), after the trust check: only root or the user
     * running rdapsync can change the file between the two. */
    if (plugin_sha256_file(path, sha256, err, err_size) != 0 ||
        (pin && plugin_pin_check(pin, path, sha256, err, err_size) != 0))
        return NULL;
    loader_ignore_sigpipe();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(err, err_size, "%s: cannot load: %s", path, reason ? reason : "unknown dlopen error");
        return NULL;
    }
    /* POSIX allows converting dlsym's object pointer to a function pointer;
     * the union keeps -Wpedantic quiet about it. */
    union {
        void *object;
        rdapsync_entry_fn entry;
    } symbol = { .object = dlsym(handle, RDAPSYNC_ENTRY_SYMBOL) };
    if (!symbol.object) {
        snprintf(err, err_size, "%s: no entry symbol %s (not an rdapsync plugin?)", path, RDAPSYNC_ENTRY_SYMBOL);
        goto fail;
    }
    const rdapsync_plugin *desc = symbol.entry(host_api_table());
    if (!desc) {
        snprintf(err, err_size, "%s: %s returned no descriptor", path, RDAPSYNC_ENTRY_SYMBOL);
        goto fail;
    }
    if (check_abi(path, desc, err, err_size) < 0 || check_identity(path, desc, kind, name, err, err_size) < 0 ||
        check_callbacks(path, desc, err, err_size) < 0)
        goto fail;
    char reason[512];
    if (options_table_check(desc->options, desc->config_size, reason, sizeof(reason)) < 0 ||
        options_set_check(desc, reason, sizeof(reason)) < 0) {
        snprintf(err, err_size, "%s: %s", path, reason);
        goto fail;
    }
    plugin = calloc(1, sizeof(*plugin));
    if (!plugin || !(plugin->path = strdup(path)) || (distrust[0] && !(plugin->trust_warning = strdup(distrust)))) {
        snprintf(err, err_size, "%s: out of memory", path);
        goto fail;
    }
    plugin->handle = handle;
    plugin->desc = desc;
    memcpy(plugin->sha256, sha256, sizeof(sha256));
    return plugin;
fail:
    if (plugin) {
        free(plugin->path);
        free(plugin->trust_warning);
    }
    free(plugin);
    dlclose(handle);
    return NULL;
}

void loader_unload(loaded_plugin *plugin)
{
    if (!plugin)
        return;
    if (plugin->handle)
        dlclose(plugin->handle);
    free(plugin->path);
    free(plugin->trust_warning);
    free(plugin);
}
