/* Object id -> index in rdap_source.objects: open addressing, FNV-1a. */
#include "source_rdap.h"

#include <stdlib.h>
#include <string.h>

static size_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

long index_find(const rdap_source *s, const char *id)
{
    const id_index *ix = &s->index;
    if (!ix->cap)
        return -1;
    for (size_t i = fnv(id) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->slots[i])
            return -1;
        if (strcmp(s->objects[ix->slots[i] - 1].spec.id, id) == 0)
            return (long)(ix->slots[i] - 1);
    }
}

static void place(id_index *ix, const rdap_source *s, size_t object)
{
    size_t i = fnv(s->objects[object].spec.id) & (ix->cap - 1);
    while (ix->slots[i])
        i = (i + 1) & (ix->cap - 1);
    ix->slots[i] = object + 1;
}

int index_add(rdap_source *s, size_t object)
{
    id_index *ix = &s->index;
    /* Kept at most half full so that probes stay short. */
    if ((s->object_count + 1) * 2 > ix->cap) {
        id_index bigger = {.cap = ix->cap ? ix->cap * 2 : 1024};
        bigger.slots = calloc(bigger.cap, sizeof(size_t));
        if (!bigger.slots)
            return -1;
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slots[i])
                place(&bigger, s, ix->slots[i] - 1);
        free(ix->slots);
        *ix = bigger;
    }
    place(ix, s, object);
    return 0;
}

void index_free(id_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}
