/* Reading the plugins' SHA-256 pins from the configuration (config_pins.h). */
#include "config/config_pins.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"
#include "base/spelling.h"

static const char *const pin_keys[] = { "sha256", NULL };

/* One `KIND-NAME: { sha256: HEX }`; fills *pin (stem and place owned) or
 * reports and returns -1. */
static int load_pin(const char *file, const ynode *key, const ynode *value, plugin_registry *registry,
                    diag_list *diags, plugin_pin *pin)
{
    const char *stem = key->scalar;
    char path[PATH_MAX], meant[SPELLING_MAX + 1], reason[1024];
    if (value->kind != YNODE_MAPPING) {
        diag_add(diags, DIAG_ERROR, file, value->line, value->column, NULL,
                 "plugins.%s must be a mapping { sha256: HEX }", stem);
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < value->count; i++) {
        if (strcmp(value->keys[i]->scalar, "sha256") == 0)
            continue;
        spelling near;
        const char *close = spelling_suggest(&near, value->keys[i]->scalar, pin_keys);
        diag_add(diags, DIAG_ERROR, file, value->keys[i]->line, value->keys[i]->column, NULL,
                 "unknown key '%s' in plugins.%s (%s%s%s)", value->keys[i]->scalar, stem,
                 close ? "did you mean '" : "expected: sha256", close ? close : "", close ? "'?" : "");
        bad = 1;
    }
    const ynode *digest = ynode_get(value, "sha256");
    if (!digest) {
        diag_add(diags, DIAG_ERROR, file, value->line, value->column, NULL, "plugins.%s: missing key 'sha256'", stem);
        return -1;
    }
    if (digest->kind != YNODE_SCALAR || plugin_sha256_parse(digest->scalar, pin->sha256) != 0) {
        diag_add(diags, DIAG_ERROR, file, digest->line, digest->column, NULL,
                 "plugins.%s.sha256 must be 64 hexadecimal digits (as sha256sum prints them)", stem);
        return -1;
    }
    if (!registry_find_stem(registry, stem, path, sizeof(path), meant)) {
        if (meant[0])
            diag_add(diags, DIAG_ERROR, file, key->line, key->column, NULL,
                     "plugins: no plugin file '%s.so' on the search path (did you mean '%s'?)", stem, meant);
        else
            diag_add(diags, DIAG_ERROR, file, key->line, key->column, NULL,
                     "plugins: no plugin file '%s.so' on the search path (keys are KIND-NAME, e.g. sink-postgres)",
                     stem);
        return -1;
    }
    char place[PATH_MAX + 32];
    snprintf(place, sizeof(place), "%s:%d:%d", file, digest->line, digest->column);
    pin->stem = strdup(stem);
    pin->place = strdup(place);
    unsigned char actual[PLUGIN_SHA256_SIZE];
    if (plugin_sha256_file(path, actual, reason, sizeof(reason)) != 0 ||
        plugin_pin_check(pin, path, actual, reason, sizeof(reason)) != 0) {
        diag_add(diags, DIAG_ERROR, file, digest->line, digest->column, "plugin-pin", "plugins.%s: %s", stem, reason);
        bad = 1;
    }
    return bad ? -1 : 0;
}

void config_pins_load(const char *file, const ynode *node, plugin_registry *registry, diag_list *diags)
{
    plugin_pin *pins = NULL;
    size_t count = 0;
    if (node && !options_is_null(node)) {
        if (node->kind != YNODE_MAPPING) {
            diag_add(diags, DIAG_ERROR, file, node->line, node->column, NULL,
                     "'plugins' must be a mapping of KIND-NAME: { sha256: HEX }");
        } else if ((pins = calloc(node->count ? node->count : 1, sizeof(*pins)))) {
            for (size_t i = 0; i < node->count; i++) {
                /* A mismatched pin is kept: the plugin must stay refused. */
                load_pin(file, node->keys[i], node->items[i], registry, diags, &pins[count]);
                if (pins[count].stem)
                    count++;
            }
        }
    }
    if (registry_set_pins(registry, pins, count) != 0)
        diag_add(diags, DIAG_ERROR, file, 0, 0, NULL, "plugins: out of memory");
    plugin_pins_free(pins, count);
}
