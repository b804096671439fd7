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
    RDAPSYNC_OPT_MAP = 9       /* rdapsync_string_map: a YAML mapping of scalars (pass-through properties) */
} rdapsync_option_type;

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

#endif
