/*
 * The `objects` option: one file, or a directory of files, one object per
 * line. Read again whenever a file's size or mtime changes, so lines added
 * while running are followed; objects are never dropped while running (a
 * removed line stops being followed at the next start).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include "source_rdap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define H source_rdap_host

/* Which task follows an object: a stable hash of its id, so every task of
 * the pipeline agrees without talking. */
static int task_of(const char *id, int count)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return count > 1 ? (int)(h % (uint32_t)count) : 0;
}

static int add_object(rdap_source *s, obj_spec *spec)
{
    if (index_find(s, spec->id) >= 0 || task_of(spec->id, s->task_count) != s->task_index) {
        obj_spec_free(spec);
        return 0;
    }
    if (s->object_count == s->object_cap) {
        size_t cap = s->object_cap ? s->object_cap * 2 : 256;
        rdap_object *v = realloc(s->objects, cap * sizeof(*v));
        if (!v) {
            obj_spec_free(spec);
            return -1;
        }
        s->objects = v;
        s->object_cap = cap;
    }
    rdap_object *o = &s->objects[s->object_count];
    memset(o, 0, sizeof(*o));
    o->spec = *spec;
    o->server = -1;
    if (index_add(s, s->object_count) != 0) {
        obj_spec_free(&o->spec);
        return -1;
    }
    s->object_count++;
    return 1;
}

static int read_file(rdap_source *s, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, why[300];
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;

    if (!f) {
        snprintf(err, err_size, "objects file %s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        obj_spec spec;
        lineno++;
        int got = obj_parse_line(line, (size_t)n, &spec, why, sizeof(why));
        if (got < 0)
            /* One bad line must not stop the others from being followed. */
            H->log(s->ctx, RDAPSYNC_LOG_WARN, "%s:%ld: %s; line skipped", path, lineno, why);
        else if (got > 0 && add_object(s, &spec) < 0)
            rc = -1;
    }
    free(line);
    fclose(f);
    if (rc != 0)
        snprintf(err, err_size, "out of memory reading %s", path);
    return rc;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The files to read (a NULL-terminated list of paths) and a signature of
 * their sizes and mtimes in *sig; the caller frees the paths, the list
 * and *sig. */
static char **list_files(const char *path, char **sig, char *err, size_t err_size)
{
    struct stat st;
    char **v = NULL;
    size_t n = 0, cap = 0, siglen = 0;
    *sig = NULL;
    if (stat(path, &st) != 0) {
        snprintf(err, err_size, "objects %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        v = calloc(2, sizeof(char *));
        if (v && !(v[0] = strdup(path))) {
            free(v);
            v = NULL;
        }
    } else {
        DIR *d = opendir(path);
        struct dirent *e;
        if (!d) {
            snprintf(err, err_size, "objects %s: %s", path, strerror(errno));
            return NULL;
        }
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue; /* hidden files and editors' swap files */
            if (n + 2 > cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(v, cap * sizeof(char *));
                if (!nv)
                    break;
                v = nv;
            }
            size_t len = strlen(path) + strlen(e->d_name) + 2;
            if (!(v[n] = malloc(len)))
                break;
            snprintf(v[n], len, "%s/%s", path, e->d_name);
            struct stat fst;
            if (stat(v[n], &fst) != 0 || !S_ISREG(fst.st_mode)) {
                free(v[n]);
                continue;
            }
            v[++n] = NULL;
        }
        closedir(d);
        if (!v)
            v = calloc(1, sizeof(char *));
        else
            qsort(v, n, sizeof(char *), by_name);
    }
    if (!v) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; v[i]; i++) {
        char part[64];
        struct stat fst;
        if (stat(v[i], &fst) != 0)
            continue;
        int len = snprintf(part, sizeof(part), "%lld.%ld:%lld;", (long long)fst.st_mtim.tv_sec,
                           fst.st_mtim.tv_nsec, (long long)fst.st_size);
        char *ns = realloc(*sig, siglen + strlen(v[i]) + (size_t)len + 1);
        if (!ns)
            continue;
        *sig = ns;
        memcpy(*sig + siglen, v[i], strlen(v[i]));
        siglen += strlen(v[i]);
        memcpy(*sig + siglen, part, (size_t)len + 1);
        siglen += (size_t)len;
    }
    return v;
}

int objects_sync(rdap_source *s, bool force, char *err, size_t err_size)
{
    char *sig;
    char **files = list_files(s->cfg->objects, &sig, err, err_size);
    int rc = 0;
    size_t before = s->object_count;

    if (!files) {
        free(sig);
        return -1;
    }
    if (force || !s->objects_sig || !sig || strcmp(sig, s->objects_sig) != 0) {
        for (size_t i = 0; files[i] && rc == 0; i++)
            rc = read_file(s, files[i], err, err_size);
        free(s->objects_sig);
        s->objects_sig = sig;
        sig = NULL;
    }
    for (size_t i = 0; files[i]; i++)
        free(files[i]);
    free(files);
    free(sig);
    if (rc == 0 && s->object_count > before && before > 0)
        H->log(s->ctx, RDAPSYNC_LOG_INFO, "objects: %zu new, %zu followed by this task", s->object_count - before,
               s->object_count);
    return rc;
}

void objects_free(rdap_source *s)
{
    for (size_t i = 0; i < s->object_count; i++) {
        rdap_object *o = &s->objects[i];
        obj_spec_free(&o->spec);
        free(o->etag);
        free(o->last_modified);
        free(o->key);
        free(o->redirect);
    }
    free(s->objects);
    s->objects = NULL;
    s->object_count = s->object_cap = 0;
    index_free(&s->index);
    free(s->objects_sig);
    s->objects_sig = NULL;
}
