#include "origin_skip.h"

#include <string.h>

bool origin_skipped(const rdapsync_string_list *list, const char *origin)
{
    /* A handful of regions at most: a linear scan beats any index. */
    if (!origin)
        return false;
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i], origin) == 0)
            return true;
    return false;
}
