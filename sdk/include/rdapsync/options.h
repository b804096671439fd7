/*
 * rdapsync SDK: declared configuration options.
 *
 * A plugin declares its options as a table; it never parses YAML. Before any
 * plugin code runs, the host checks every pipeline of the file against these
 * tables (unknown keys, types, ranges, required options; errors name
 * file:line:column), applies defaults, resolves ${env:NAME} / ${file:PATH},
 * and fills a zeroed struct of `config_size` bytes at each row's `offset`.
 * The plugin receives that struct read-only in open(); the host owns it and
 * everything it points to, and frees it after close().
 */
#ifndef RDAPSYNC_OPTIONS_H
#define RDAPSYNC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The C type the host stores at `offset` is given after each type. */
typedef enum rdapsync_option_type {
    RDAPSYNC_OPT_STRING = 1,   /* char * (NUL-terminated, NULL if unset without default) */
    RDAPSYNC_OPT_INT = 2,      /* int64_t */
    RDAPSYNC_OPT_BOOL = 3,     /* bool: true/false/yes/no/on/off */
    RDAPSYNC_OPT_SIZE = 4,     /* int64_t bytes: "512", "64K", "1M", "2G" */
    RDAPSYNC_OPT_DURATION = 5, /* int64_t milliseconds: "250ms", "5s", "2m", "1h"; a bare number is ms */
    RDAPSYNC_OPT_ENUM = 6,     /* int: index into enum_values */
    RDAPSYNC_OPT_LIST = 7,     /* rdapsync_string_list: a YAML sequence of scalars (or one scalar) */
    RDAPSYNC_OPT_DOUBLE = 8,   /* double */
    RDAPSYNC_OPT_MAP = 9,      /* rdapsync_string_map: a YAML mapping of scalars (pass-through properties) */
    RDAPSYNC_OPT_JSON = 10     /* char *: ABI 1.3, any YAML value as one JSON text (see below) */
} rdapsync_option_type;

/*
 * RDAPSYNC_OPT_JSON (ABI 1.3): structured configuration (lists of
 * mappings, nested rules) for plugins that need more than scalars. The host
 * turns the YAML value into a compact JSON text, which the plugin parses
 * with host->json->parse: a quoted scalar becomes a string; an unquoted
 * true/false a boolean, null/~ null, a decimal integer a number; every other
 * scalar a string (so `1.0` stays the string "1.0", as a version should).
 * ${env:}/${file:} references in scalars are expanded first. The default
 * is written as JSON text ("[]"). NULL when unset without a default.
 * Positions: a check() reason that starts with "@PATH: " (PATH as
 * `option[0].member`, relative to the plugin's config mapping) is reported
 * at the file:line:column of that node, without the prefix.
 */

#define RDAPSYNC_OPT_REQUIRED 0x1u /* no default; missing is an error */
#define RDAPSYNC_OPT_SECRET 0x2u   /* never printed or logged; validate warns if written literally */

typedef struct rdapsync_string_list {
    size_t count;
    char **items; /* count strings, host-owned */
} rdapsync_string_list;

typedef struct rdapsync_string_map {
    size_t count;
    char **keys;   /* count strings, host-owned */
    char **values; /* count strings, host-owned, secrets already resolved */
} rdapsync_string_map;

/*
 * One row of a plugin's option table; a table ends with a row whose name is
 * NULL. `min`/`max` bound INT, SIZE and DURATION values when min < max.
 * `enum_values` is a NULL-terminated list for ENUM. `default_value` is
 * written as it would be in YAML ("5s", "1000", "true", "a,b" for lists) and
 * is parsed with the same rules as the file.
 */
typedef struct rdapsync_option {
    const char *name;
    rdapsync_option_type type;
    unsigned flags;
    const char *default_value;
    int64_t min;
    int64_t max;
    const char *const *enum_values;
    size_t offset;
    const char *description;
} rdapsync_option;

/* The most rows a table may have (the host refuses longer ones). */
#define RDAPSYNC_OPTIONS_MAX 512

/*
 * Rows without the offsetof() bookkeeping. Each macro expands to the
 * designated initializers of one row, to be put between braces so that
 * flags can follow:
 *
 *   typedef struct my_config { char *path; int64_t timeout; int mode; } my_config;
 *   static const char *const modes[] = { "fast", "safe", NULL };
 *   static const rdapsync_option options[] = {
 *       { RDAPSYNC_OPTION_STRING(my_config, path, NULL, "file to write"), .flags = RDAPSYNC_OPT_REQUIRED },
 *       { RDAPSYNC_OPTION_DURATION(my_config, timeout, "5s", 0, 60000, "how long to wait") },
 *       { RDAPSYNC_OPTION_ENUM(my_config, mode, "safe", modes, "fast or safe") },
 *       RDAPSYNC_OPTIONS_END,
 *   };
 *
 * The option's name is the member's name. The member must have the C type
 * the host stores for the option's type (see rdapsync_option_type): a
 * member of another type does not compile ("size of array is negative"),
 * where a hand-written row would let the host write past it.
 */
#define RDAPSYNC_OPTION_OFFSET_(config_, member_, ctype) \
    (offsetof(config_, member_) + 0 * sizeof(char[_Generic(((config_ *)0)->member_, ctype: 1, default: -1)]))
#define RDAPSYNC_OPTION_ROW_(otype, config_, member_, ctype, default_, help_) \
    .name = #member_, .type = otype, .default_value = default_, \
    .offset = RDAPSYNC_OPTION_OFFSET_(config_, member_, ctype), .description = help_

#define RDAPSYNC_OPTION_STRING(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_STRING, config_, member_, char *, default_, help_)
#define RDAPSYNC_OPTION_BOOL(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_BOOL, config_, member_, bool, default_, help_)
#define RDAPSYNC_OPTION_DOUBLE(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_DOUBLE, config_, member_, double, default_, help_)
#define RDAPSYNC_OPTION_LIST(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_LIST, config_, member_, rdapsync_string_list, default_, help_)
#define RDAPSYNC_OPTION_MAP(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_MAP, config_, member_, rdapsync_string_map, default_, help_)
/* ABI 1.3: the member holds the JSON text (see RDAPSYNC_OPT_JSON). */
#define RDAPSYNC_OPTION_JSON(config_, member_, default_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_JSON, config_, member_, char *, default_, help_)
/* `min_` < `max_` bound the value; equal bounds (0, 0) mean none. */
#define RDAPSYNC_OPTION_INT(config_, member_, default_, min_, max_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_INT, config_, member_, int64_t, default_, help_), .min = min_, .max = max_
#define RDAPSYNC_OPTION_SIZE(config_, member_, default_, min_, max_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_SIZE, config_, member_, int64_t, default_, help_), .min = min_, .max = max_
/* The member holds milliseconds. */
#define RDAPSYNC_OPTION_DURATION(config_, member_, default_, min_, max_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_DURATION, config_, member_, int64_t, default_, help_), .min = min_, .max = max_
/* `values_`: a NULL-terminated array of names; the member gets the index. */
#define RDAPSYNC_OPTION_ENUM(config_, member_, default_, values_, help_) \
    RDAPSYNC_OPTION_ROW_(RDAPSYNC_OPT_ENUM, config_, member_, int, default_, help_), .enum_values = values_
/* The row that ends a table. */
#define RDAPSYNC_OPTIONS_END { .name = NULL }

/*
 * ABI 1.2: which rows of a plugin's table the configuration wrote, as
 * opposed to rows that got their default (or nothing). Bit i of `rows`
 * stands for row i of the table. A plugin that wants it gives its config
 * struct a member of this type and names it in its descriptor
 * (RDAPSYNC_OPTIONS_SET_IN, plugin.h); the host fills it with the rest of
 * the struct, so check() and open() can tell "left at the default" from
 * "written as the default", e.g. to refuse an option that only matters
 * with another one. A host older than 1.2 refuses such a plugin (its
 * minor is newer), so the set is always filled when the plugin runs.
 */
typedef struct rdapsync_options_set {
    uint64_t rows[RDAPSYNC_OPTIONS_MAX / 64];
} rdapsync_options_set;

/* Whether the configuration wrote the option `name` of `table` (false for
 * a name the table does not have). Pure; `set` as the host filled it. */
static inline bool rdapsync_option_is_set(const rdapsync_option *table, const rdapsync_options_set *set,
                                          const char *name)
{
    for (size_t i = 0; table && table[i].name && i < RDAPSYNC_OPTIONS_MAX; i++)
        if (strcmp(table[i].name, name) == 0)
            return (set->rows[i / 64] >> (i % 64)) & 1u;
    return false;
}

#endif
