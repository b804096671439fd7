/* The journal of one erasure (erase_journal.h). */
#include "runtime/erase_journal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/checkpoint.h"

struct erase_journal {
    char *path;
    FILE *f;
    char **sinks; /* finished in an earlier run */
    uint64_t *changed;
    size_t count;
};

static int load(erase_journal *j)
{
    char line[1024], sink[1000];
    uint64_t changed;
    rewind(j->f);
    while (fgets(line, sizeof(line), j->f)) {
        size_t len = strlen(line);
        if (!len || line[len - 1] != '\n' || sscanf(line, "%999s %" SCNu64, sink, &changed) != 2)
            continue; /* a torn last line: that sink is done again */
        char **sinks = realloc(j->sinks, (j->count + 1) * sizeof(char *));
        uint64_t *counts = sinks ? realloc(j->changed, (j->count + 1) * sizeof(uint64_t)) : NULL;
        if (sinks)
            j->sinks = sinks;
        if (!counts || !(j->sinks[j->count] = strdup(sink)))
            return -1;
        j->changed = counts;
        j->changed[j->count++] = changed;
    }
    return 0;
}

erase_journal *erase_journal_open(const char *state_dir, const char *subject_hash, char *err, size_t err_size)
{
    erase_journal *j = calloc(1, sizeof(*j));
    size_t size = strlen(state_dir) + strlen(subject_hash) + 40;
    char *dir = malloc(size);
    if (!j || !dir || !(j->path = malloc(size))) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    snprintf(dir, size, "%s/compliance", state_dir);
    snprintf(j->path, size, "%s/erase-%.32s.journal", dir, subject_hash);
    if (checkpoint_mkdirs(dir) != 0 || !(j->f = fopen(j->path, "a+"))) {
        snprintf(err, err_size, "erase journal %s: %s", j->path, strerror(errno));
        goto fail;
    }
    if (load(j) < 0) {
        snprintf(err, err_size, "erase journal %s: out of memory", j->path);
        goto fail;
    }
    free(dir);
    return j;
fail:
    free(dir);
    erase_journal_close(j);
    return NULL;
}

bool erase_journal_done(const erase_journal *j, const char *sink, uint64_t *changed)
{
    for (size_t i = 0; i < j->count; i++)
        if (strcmp(j->sinks[i], sink) == 0) {
            *changed = j->changed[i];
            return true;
        }
    return false;
}

int erase_journal_mark(erase_journal *j, const char *sink, uint64_t changed)
{
    if (fprintf(j->f, "%s %" PRIu64 "\n", sink, changed) < 0 || fflush(j->f) != 0 || fsync(fileno(j->f)) != 0)
        return -1;
    return 0;
}

size_t erase_journal_resumed(const erase_journal *j) { return j->count; }

void erase_journal_finish(erase_journal *j)
{
    if (j && j->path)
        unlink(j->path);
}

void erase_journal_close(erase_journal *j)
{
    if (!j)
        return;
    if (j->f)
        fclose(j->f);
    for (size_t i = 0; i < j->count; i++)
        free(j->sinks[i]);
    free(j->sinks);
    free(j->changed);
    free(j->path);
    free(j);
}
