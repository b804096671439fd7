/* `rdapsync plugins`: text and JSON listings, both from the option tables. */
#include "cli/cli_plugins.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/options.h"
#include "runtime/runtime.h"

typedef struct listing {
    bool json;
    const char *const *filters;
    size_t filter_count;
    FILE *out;
    size_t shown;
    json_t *plugins; /* JSON mode */
    json_t *errors;  /* JSON mode */
} listing;

static bool wanted(const listing *list, const rdapsync_plugin *desc)
{
    if (list->filter_count == 0)
        return true;
    char full[300];
    snprintf(full, sizeof(full), "%s-%s", rdapsync_kind_str(desc->kind), desc->name);
    for (size_t i = 0; i < list->filter_count; i++)
        if (strcmp(list->filters[i], desc->name) == 0 || strcmp(list->filters[i], full) == 0)
            return true;
    return false;
}

static const char *or_empty(const char *text)
{
    return text ? text : "";
}

static void print_enum(FILE *out, const rdapsync_option *opt)
{
    fprintf(out, "one of: ");
    for (size_t i = 0; opt->enum_values[i]; i++)
        fprintf(out, "%s%s", i ? ", " : "", opt->enum_values[i]);
}

static void print_option_text(FILE *out, const rdapsync_option *opt)
{
    fprintf(out, "    %-24s %-9s", opt->name, options_type_name(opt->type));
    const char *sep = "";
    if (opt->flags & RDAPSYNC_OPT_REQUIRED) {
        fprintf(out, "required");
        sep = ", ";
    }
    if (opt->flags & RDAPSYNC_OPT_SECRET) {
        fprintf(out, "%ssecret", sep);
        sep = ", ";
    }
    if (opt->default_value) {
        fprintf(out, "%sdefault \"%s\"", sep, opt->default_value);
        sep = ", ";
    }
    if (opt->min < opt->max &&
        (opt->type == RDAPSYNC_OPT_INT || opt->type == RDAPSYNC_OPT_SIZE || opt->type == RDAPSYNC_OPT_DURATION)) {
        char low[32], high[32];
        options_format_value(opt->type, opt->min, low, sizeof(low));
        options_format_value(opt->type, opt->max, high, sizeof(high));
        fprintf(out, "%srange %s..%s", sep, low, high);
        sep = ", ";
    }
    if (opt->type == RDAPSYNC_OPT_ENUM) {
        fprintf(out, "%s", sep);
        print_enum(out, opt);
    }
    fprintf(out, "\n");
    if (opt->description)
        fprintf(out, "        %s\n", opt->description);
}

static void print_plugin_text(const listing *list, const loaded_plugin *plugin)
{
    const rdapsync_plugin *desc = plugin->desc;
    fprintf(list->out, "%s %s %s  (%s)\n", rdapsync_kind_str(desc->kind), desc->name, or_empty(desc->version),
            plugin->path);
    if (desc->description)
        fprintf(list->out, "  %s\n", desc->description);
    if (desc->kind == RDAPSYNC_KIND_TRANSFORM && (loader_plugin_flags(desc) & RDAPSYNC_TRANSFORM_CONCURRENT))
        fprintf(list->out, "  concurrent: its calls may overlap (shared between a task's two threads)\n");
    if (desc->kind == RDAPSYNC_KIND_TRANSFORM && (loader_plugin_flags(desc) & RDAPSYNC_TRANSFORM_LIGHT))
        fprintf(list->out, "  light: little work per record (under transform_thread: auto, a pipeline of light "
                           "transforms runs them on the task's thread)\n");
    if (!desc->options || !desc->options[0].name) {
        fprintf(list->out, "  no options\n\n");
        return;
    }
    fprintf(list->out, "  options:\n");
    for (size_t i = 0; desc->options[i].name; i++)
        print_option_text(list->out, &desc->options[i]);
    fprintf(list->out, "\n");
}

/* ---- JSON schema ---- */

static const char *schema_type(rdapsync_option_type type)
{
    switch (type) {
    case RDAPSYNC_OPT_STRING:
    case RDAPSYNC_OPT_ENUM: return "string";
    case RDAPSYNC_OPT_INT: return "integer";
    case RDAPSYNC_OPT_BOOL: return "boolean";
    case RDAPSYNC_OPT_DOUBLE: return "number";
    case RDAPSYNC_OPT_LIST: return "array";
    case RDAPSYNC_OPT_MAP: return "object";
    case RDAPSYNC_OPT_JSON: /* any YAML value */
    case RDAPSYNC_OPT_SIZE:
    case RDAPSYNC_OPT_DURATION: return NULL; /* "16M" or a bare number */
    }
    return NULL;
}

/* The default as JSON of the option's type (the table writes it as YAML). */
static json_t *default_json(const rdapsync_option *opt)
{
    const char *text = opt->default_value;
    int64_t number;
    bool flag;
    double real;
    switch (opt->type) {
    case RDAPSYNC_OPT_INT:
        return options_parse_int(text, &number) == 0 ? json_integer(number) : json_string(text);
    case RDAPSYNC_OPT_BOOL:
        return options_parse_bool(text, &flag) == 0 ? json_boolean(flag) : json_string(text);
    case RDAPSYNC_OPT_DOUBLE:
        return options_parse_double(text, &real) == 0 ? json_real(real) : json_string(text);
    case RDAPSYNC_OPT_JSON: {
        json_t *value = json_loads(text, JSON_DECODE_ANY, NULL);
        return value ? value : json_string(text);
    }
    case RDAPSYNC_OPT_LIST: {
        json_t *items = json_array();
        char *copy = strdup(text);
        char *save = NULL;
        for (char *part = copy ? strtok_r(copy, ",", &save) : NULL; part; part = strtok_r(NULL, ",", &save))
            json_array_append_new(items, json_string(part));
        free(copy);
        return items;
    }
    default:
        return json_string(text);
    }
}

static json_t *option_schema(const rdapsync_option *opt)
{
    json_t *schema = json_object();
    const char *type = schema_type(opt->type);
    if (type) {
        json_object_set_new(schema, "type", json_string(type));
    } else if (opt->type == RDAPSYNC_OPT_JSON) {
        /* Any value: no "type" constraint. */
    } else {
        json_t *types = json_array();
        json_array_append_new(types, json_string("string"));
        json_array_append_new(types, json_string("integer"));
        json_object_set_new(schema, "type", types);
    }
    json_object_set_new(schema, "x-rdapsync-type", json_string(options_type_name(opt->type)));
    if (opt->description)
        json_object_set_new(schema, "description", json_string(opt->description));
    if (opt->default_value)
        json_object_set_new(schema, "default", default_json(opt));
    if (opt->flags & RDAPSYNC_OPT_SECRET) {
        json_object_set_new(schema, "writeOnly", json_true());
        json_object_set_new(schema, "x-rdapsync-secret", json_true());
    }
    if (opt->min < opt->max) {
        if (opt->type == RDAPSYNC_OPT_INT) {
            json_object_set_new(schema, "minimum", json_integer(opt->min));
            json_object_set_new(schema, "maximum", json_integer(opt->max));
        } else if (opt->type == RDAPSYNC_OPT_SIZE || opt->type == RDAPSYNC_OPT_DURATION) {
            const char *unit = opt->type == RDAPSYNC_OPT_SIZE ? "bytes" : "ms";
            char key[48];
            snprintf(key, sizeof(key), "x-rdapsync-minimum-%s", unit);
            json_object_set_new(schema, key, json_integer(opt->min));
            snprintf(key, sizeof(key), "x-rdapsync-maximum-%s", unit);
            json_object_set_new(schema, key, json_integer(opt->max));
        }
    }
    if (opt->type == RDAPSYNC_OPT_ENUM) {
        json_t *values = json_array();
        for (size_t i = 0; opt->enum_values[i]; i++)
            json_array_append_new(values, json_string(opt->enum_values[i]));
        json_object_set_new(schema, "enum", values);
    }
    if (opt->type == RDAPSYNC_OPT_LIST)
        json_object_set_new(schema, "items", json_pack("{s:s}", "type", "string"));
    if (opt->type == RDAPSYNC_OPT_MAP)
        json_object_set_new(schema, "additionalProperties", json_pack("{s:s}", "type", "string"));
    return schema;
}

static json_t *config_schema(const rdapsync_plugin *desc)
{
    json_t *properties = json_object();
    json_t *required = json_array();
    for (size_t i = 0; desc->options && desc->options[i].name; i++) {
        const rdapsync_option *opt = &desc->options[i];
        json_object_set_new(properties, opt->name, option_schema(opt));
        if (opt->flags & RDAPSYNC_OPT_REQUIRED)
            json_array_append_new(required, json_string(opt->name));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:b}", "$schema", "https://json-schema.org/draft/2020-12/schema",
                     "type", "object", "properties", properties, "required", required, "additionalProperties", 0);
}

static void add_plugin_json(listing *list, const loaded_plugin *plugin)
{
    const rdapsync_plugin *desc = plugin->desc;
    json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}, s:o}", "kind", rdapsync_kind_str(desc->kind),
                              "name", desc->name, "version", or_empty(desc->version), "description",
                              or_empty(desc->description), "path", plugin->path, "abi", "major", desc->abi_major,
                              "minor", desc->abi_minor, "config", config_schema(desc));
    if (entry && desc->kind == RDAPSYNC_KIND_TRANSFORM) {
        json_object_set_new(entry, "concurrent",
                            json_boolean(loader_plugin_flags(desc) & RDAPSYNC_TRANSFORM_CONCURRENT));
        json_object_set_new(entry, "light", json_boolean(loader_plugin_flags(desc) & RDAPSYNC_TRANSFORM_LIGHT));
    }
    json_array_append_new(list->plugins, entry);
}

static void on_plugin(const loaded_plugin *plugin, void *opaque)
{
    listing *list = opaque;
    if (!wanted(list, plugin->desc))
        return;
    list->shown++;
    if (list->json)
        add_plugin_json(list, plugin);
    else
        print_plugin_text(list, plugin);
}

static void on_error(const char *path, const char *reason, void *opaque)
{
    listing *list = opaque;
    fprintf(stderr, "rdapsync: %s: skipped: %s\n", path, reason);
    if (list->json)
        json_array_append_new(list->errors, json_pack("{s:s, s:s}", "path", path, "reason", reason));
}

int cli_plugins_print(plugin_registry *registry, bool json, const char *const *filters, size_t filter_count,
                      FILE *out)
{
    listing list = { .json = json, .filters = filters, .filter_count = filter_count, .out = out };
    if (json) {
        list.plugins = json_array();
        list.errors = json_array();
    }
    registry_each(registry, on_plugin, on_error, &list);
    if (json) {
        json_t *doc = json_pack("{s:{s:i, s:i}, s:o, s:o}", "host_abi", "major", RDAPSYNC_ABI_MAJOR, "minor",
                                RDAPSYNC_ABI_MINOR, "plugins", list.plugins, "errors", list.errors);
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        json_decref(doc);
    } else if (list.shown == 0 && filter_count == 0) {
        fprintf(out, "no plugins found on the search path (use --plugin-path DIR or RDAPSYNC_PLUGIN_PATH)\n");
    }
    if (filter_count > 0 && list.shown == 0) {
        fprintf(stderr, "rdapsync: no plugin matches the given name\n");
        return EXIT_CONFIG;
    }
    return EXIT_OK;
}
