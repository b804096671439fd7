/* The plugin search path and the cache of loaded plugins. Main thread only. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spelling.h"
#include "loader/loader.h"

#ifndef RDAPSYNC_DEFAULT_PLUGIN_DIR
#define RDAPSYNC_DEFAULT_PLUGIN_DIR "/usr/local/lib/rdapsync/plugins"
#endif

typedef struct registry_entry {
    rdapsync_kind kind;
    loaded_plugin *plugin; /* owned */
} registry_entry;

struct plugin_registry {
    char **dirs; /* owned, in search order, no duplicates */
    size_t dir_count;
    size_t front_count; /* dirs given to registry_new(): they stay first */
    registry_entry *entries;
    size_t entry_count;
    plugin_pin *pins; /* owned: the configuration's `plugins:` */
    size_t pin_count;
};

static const rdapsync_kind all_kinds[] = { RDAPSYNC_KIND_SOURCE, RDAPSYNC_KIND_TRANSFORM, RDAPSYNC_KIND_SINK };

static bool has_dir(const plugin_registry *registry, const char *dir)
{
    for (size_t i = 0; i < registry->dir_count; i++)
        if (strcmp(registry->dirs[i], dir) == 0)
            return true;
    return false;
}

/* Inserts a copy of `dir` at `at` unless it is empty or already there.
 * Returns whether it was inserted. */
static bool insert_dir(plugin_registry *registry, size_t at, const char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    char *copy = strndup(dir, len);
    if (!copy || !*copy || has_dir(registry, copy)) {
        free(copy);
        return false;
    }
    char **dirs = realloc(registry->dirs, (registry->dir_count + 1) * sizeof(*dirs));
    if (!dirs) {
        free(copy);
        return false;
    }
    registry->dirs = dirs;
    memmove(&dirs[at + 1], &dirs[at], (registry->dir_count - at) * sizeof(*dirs));
    dirs[at] = copy;
    registry->dir_count++;
    return true;
}

static void append_dir(plugin_registry *registry, const char *dir)
{
    insert_dir(registry, registry->dir_count, dir);
}

static void append_env_dirs(plugin_registry *registry)
{
    const char *env = getenv("RDAPSYNC_PLUGIN_PATH");
    if (!env)
        return;
    char *copy = strdup(env);
    char *save = NULL;
    for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save))
        append_dir(registry, dir);
    free(copy);
}

/* Next to the executable: installed layouts and the build tree
 * (build/host/rdapsync finds build/plugins through "../plugins"). */
static void append_executable_dirs(plugin_registry *registry)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    static const char *const relative[] = { "plugins", "../lib/rdapsync/plugins", "../plugins" };
    for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
        char dir[PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/%s", exe, relative[i]);
        char resolved[PATH_MAX];
        append_dir(registry, realpath(dir, resolved) ? resolved : dir);
    }
}

plugin_registry *registry_new(const char *const *dirs, size_t dir_count)
{
    plugin_registry *registry = calloc(1, sizeof(*registry));
    if (!registry)
        return NULL;
    for (size_t i = 0; i < dir_count; i++)
        append_dir(registry, dirs[i]);
    registry->front_count = registry->dir_count;
    append_env_dirs(registry);
    append_executable_dirs(registry);
    append_dir(registry, RDAPSYNC_DEFAULT_PLUGIN_DIR);
    return registry;
}

void registry_free(plugin_registry *registry)
{
    if (!registry)
        return;
    for (size_t i = 0; i < registry->entry_count; i++)
        loader_unload(registry->entries[i].plugin);
    free(registry->entries);
    plugin_pins_free(registry->pins, registry->pin_count);
    for (size_t i = 0; i < registry->dir_count; i++)
        free(registry->dirs[i]);
    free(registry->dirs);
    free(registry);
}

void registry_prepend_path(plugin_registry *registry, const char *const *dirs, size_t count)
{
    size_t at = registry->front_count;
    for (size_t i = 0; i < count; i++)
        if (insert_dir(registry, at, dirs[i]))
            at++;
}

static const loaded_plugin *cached(const plugin_registry *registry, rdapsync_kind kind, const char *name)
{
    for (size_t i = 0; i < registry->entry_count; i++)
        if (registry->entries[i].kind == kind && strcmp(registry->entries[i].plugin->desc->name, name) == 0)
            return registry->entries[i].plugin;
    return NULL;
}

/* Takes ownership of `plugin` (unloads it if it cannot be kept). */
static const loaded_plugin *remember(plugin_registry *registry, loaded_plugin *plugin)
{
    registry_entry *entries = realloc(registry->entries, (registry->entry_count + 1) * sizeof(*entries));
    if (!entries) {
        loader_unload(plugin);
        return NULL;
    }
    registry->entries = entries;
    entries[registry->entry_count++] = (registry_entry){ .kind = plugin->desc->kind, .plugin = plugin };
    return plugin;
}

static const plugin_pin *find_pin(const plugin_registry *registry, rdapsync_kind kind, const char *name)
{
    const char *prefix = rdapsync_kind_str(kind);
    size_t len = strlen(prefix);
    for (size_t i = 0; i < registry->pin_count; i++) {
        const char *stem = registry->pins[i].stem;
        if (strncmp(stem, prefix, len) == 0 && stem[len] == '-' && strcmp(stem + len + 1, name) == 0)
            return &registry->pins[i];
    }
    return NULL;
}

int registry_set_pins(plugin_registry *registry, const plugin_pin *pins, size_t count)
{
    plugin_pin *copy = calloc(count ? count : 1, sizeof(*copy));
    if (!copy)
        return -1;
    for (size_t i = 0; i < count; i++) {
        copy[i].stem = strdup(pins[i].stem);
        copy[i].place = pins[i].place ? strdup(pins[i].place) : NULL;
        memcpy(copy[i].sha256, pins[i].sha256, sizeof(copy[i].sha256));
        if (!copy[i].stem || (pins[i].place && !copy[i].place)) {
            plugin_pins_free(copy, i + 1);
            return -1;
        }
    }
    plugin_pins_free(registry->pins, registry->pin_count);
    registry->pins = copy;
    registry->pin_count = count;
    return 0;
}

static bool valid_name(const char *name)
{
    if (!*name || strlen(name) > 128)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(name);
}

/* The first "dir/kind-name.so" that exists, or false. */
static bool find_file(const plugin_registry *registry, rdapsync_kind kind, const char *name, char *path,
                      size_t path_size)
{
    for (size_t i = 0; i < registry->dir_count; i++) {
        snprintf(path, path_size, "%s/%s-%s.so", registry->dirs[i], rdapsync_kind_str(kind), name);
        if (access(path, F_OK) == 0)
            return true;
    }
    return false;
}

static char **list_plugin_files(const char *dir, size_t *count);
static bool parse_file_name(const char *file, rdapsync_kind *kind, char *name, size_t name_size);

/* The installed plugin of `kind` whose name is nearest to `name`, judged
 * by file names only (nothing is loaded), or NULL. Points into `near`. */
static const char *nearest_plugin(const plugin_registry *registry, rdapsync_kind kind, const char *name,
                                  spelling *near)
{
    spelling_start(near, name);
    for (size_t d = 0; d < registry->dir_count; d++) {
        size_t count = 0;
        char **files = list_plugin_files(registry->dirs[d], &count);
        for (size_t i = 0; i < count; i++) {
            rdapsync_kind found;
            char candidate[256];
            if (parse_file_name(files[i], &found, candidate, sizeof(candidate)) && found == kind)
                spelling_consider(near, candidate);
            free(files[i]);
        }
        free(files);
    }
    return spelling_nearest(near);
}

/* "a, b, c" of the search path. */
static void describe_path(const plugin_registry *registry, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < registry->dir_count && used < out_size; i++)
        used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? ", " : "", registry->dirs[i]);
}

static void not_found(const plugin_registry *registry, rdapsync_kind kind, const char *name, char *err,
                      size_t err_size)
{
    char path[PATH_MAX];
    spelling near;
    for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
        if (all_kinds[k] != kind && find_file(registry, all_kinds[k], name, path, sizeof(path))) {
            snprintf(err, err_size, "'%s' is a %s plugin, not a %s (found %s)", name, rdapsync_kind_str(all_kinds[k]),
                     rdapsync_kind_str(kind), path);
            return;
        }
    }
    const char *meant = nearest_plugin(registry, kind, name, &near);
    if (meant) {
        snprintf(err, err_size, "unknown %s plugin '%s' (did you mean '%s'?)", rdapsync_kind_str(kind), name, meant);
        return;
    }
    char dirs[2048];
    describe_path(registry, dirs, sizeof(dirs));
    snprintf(err, err_size, "unknown %s plugin '%s': no %s-%s.so in %s", rdapsync_kind_str(kind), name,
             rdapsync_kind_str(kind), name, dirs[0] ? dirs : "(empty search path)");
}

const loaded_plugin *registry_get(plugin_registry *registry, rdapsync_kind kind, const char *name, char *err,
                                  size_t err_size)
{
    if (!valid_name(name)) {
        snprintf(err, err_size, "invalid plugin name '%s' (use a-z, 0-9, _ and -)", name);
        return NULL;
    }
    const plugin_pin *pin = find_pin(registry, kind, name);
    const loaded_plugin *hit = cached(registry, kind, name);
    if (hit) {
        /* Loaded before the pin was added or changed (a reload): the code
         * running is the one hashed when it was loaded. */
        if (pin && plugin_pin_check(pin, hit->path, hit->sha256, err, err_size) != 0)
            return NULL;
        return hit;
    }
    char path[PATH_MAX];
    if (!find_file(registry, kind, name, path, sizeof(path))) {
        not_found(registry, kind, name, err, err_size);
        return NULL;
    }
    /* The first file on the path decides: a broken one is reported rather
     * than silently shadowed by an older copy further down. */
    loaded_plugin *plugin = loader_load_pinned(path, kind, name, pin, err, err_size);
    if (!plugin)
        return NULL;
    const loaded_plugin *kept = remember(registry, plugin);
    if (!kept)
        snprintf(err, err_size, "%s: out of memory", path);
    return kept;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "*.so" names of one directory; caller frees each and the array. */
static char **list_plugin_files(const char *dir, size_t *count)
{
    *count = 0;
    DIR *handle = opendir(dir);
    if (!handle)
        return NULL;
    char **names = NULL;
    size_t capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(handle))) {
        size_t len = strlen(entry->d_name);
        if (len < 4 || strcmp(entry->d_name + len - 3, ".so") != 0)
            continue;
        if (*count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            char **grown = realloc(names, capacity * sizeof(*grown));
            if (!grown)
                break;
            names = grown;
        }
        char *copy = strdup(entry->d_name);
        if (copy)
            names[(*count)++] = copy;
    }
    closedir(handle);
    if (names)
        qsort(names, *count, sizeof(*names), compare_names);
    return names;
}

/* Splits "kind-name.so"; false if the file name does not follow it. */
static bool parse_file_name(const char *file, rdapsync_kind *kind, char *name, size_t name_size)
{
    for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
        const char *prefix = rdapsync_kind_str(all_kinds[k]);
        size_t prefix_len = strlen(prefix);
        if (strncmp(file, prefix, prefix_len) != 0 || file[prefix_len] != '-')
            continue;
        const char *start = file + prefix_len + 1;
        size_t len = strlen(start) - 3;
        if (len == 0 || len >= name_size)
            return false;
        memcpy(name, start, len);
        name[len] = '\0';
        *kind = all_kinds[k];
        return valid_name(name);
    }
    return false;
}

int registry_find_stem(const plugin_registry *registry, const char *stem, char *path, size_t path_size,
                       char *meant)
{
    spelling near;
    meant[0] = '\0';
    for (size_t d = 0; d < registry->dir_count; d++) {
        snprintf(path, path_size, "%s/%s.so", registry->dirs[d], stem);
        if (access(path, F_OK) == 0)
            return 1;
    }
    spelling_start(&near, stem);
    for (size_t d = 0; d < registry->dir_count; d++) {
        size_t count = 0;
        char **files = list_plugin_files(registry->dirs[d], &count);
        for (size_t i = 0; i < count; i++) {
            rdapsync_kind kind;
            char name[256];
            if (parse_file_name(files[i], &kind, name, sizeof(name))) {
                files[i][strlen(files[i]) - 3] = '\0';
                spelling_consider(&near, files[i]);
            }
            free(files[i]);
        }
        free(files);
    }
    const char *nearest = spelling_nearest(&near);
    if (nearest)
        snprintf(meant, SPELLING_MAX + 1, "%s", nearest);
    return 0;
}

void registry_each(plugin_registry *registry, void (*fn)(const loaded_plugin *plugin, void *opaque),
                   void (*on_error)(const char *path, const char *reason, void *opaque), void *opaque)
{
    for (size_t d = 0; d < registry->dir_count; d++) {
        size_t count = 0;
        char **files = list_plugin_files(registry->dirs[d], &count);
        for (size_t i = 0; i < count; i++) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof(path), "%s/%s", registry->dirs[d], files[i]);
            rdapsync_kind kind;
            char name[256];
            if (!parse_file_name(files[i], &kind, name, sizeof(name))) {
                if (on_error)
                    on_error(path, "file name is not <kind>-<name>.so", opaque);
                continue;
            }
            char first[PATH_MAX];
            if (find_file(registry, kind, name, first, sizeof(first)) && strcmp(first, path) != 0)
                continue; /* shadowed by an earlier directory */
            char err[1024];
            const loaded_plugin *plugin = registry_get(registry, kind, name, err, sizeof(err));
            if (plugin)
                fn(plugin, opaque);
            else if (on_error)
                on_error(path, strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':'
                                   ? err + strlen(path) + 2
                                   : err,
                         opaque);
        }
        for (size_t i = 0; i < count; i++)
            free(files[i]);
        free(files);
    }
}
