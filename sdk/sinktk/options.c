/*
 * What the option rows every keyed table sink shares mean (sinktk.h): the
 * mode names, and the exactly-once rules of check().
 */
#include <stdio.h>

#include <rdapsync/sinktk.h>

const char *const rdapsync_sinktk_mode_names[] = { "upsert", "append", NULL };

rdapsync_status rdapsync_sinktk_check_exactly_once(const rdapsync_option *table, const rdapsync_options_set *set,
                                                   bool exactly_once, const char *data_table,
                                                   const char *positions_table,
                                                   int (*compare)(const char *, const char *), char *err,
                                                   size_t err_size)
{
    if (!exactly_once && rdapsync_option_is_set(table, set, "positions_table")) {
        snprintf(err, err_size, "positions_table is set but exactly_once is false: set exactly_once: true, or "
                                "remove positions_table");
        return RDAPSYNC_ERROR;
    }
    if (exactly_once && data_table && positions_table && compare(data_table, positions_table) == 0) {
        snprintf(err, err_size, "positions_table must differ from table");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}
