/*
 * The ceiling for bench/file/run.sh: what the record model's JSON library
 * alone costs for a JSON lines file (the host's own parse and dump, the very
 * functions a pipeline calls, through host->json). Reads the file with one
 * big buffer, parses each line and serializes it again (into a reused
 * buffer, as a sink would), nothing else. The file pipeline cannot beat
 * this; its ratio to it is the overhead of rdapsync.
 *
 *   json_ceiling [--jansson | --validate] [--read | --build] [--hold N] FILE
 * prints: records=N bytes=B seconds=S cpu=S (user + system)
 *
 * --jansson measures jansson (the library the record model used before)
 * the same way, for the comparison in docs/benchmarks.md.
 *
 * --validate only runs yajl over each line with no callbacks: no tree, no
 * dump, none of the host's own checks (strict UTF-8, duplicate keys). The
 * least any pipeline that must tell valid JSON from invalid can spend with
 * the library; bench/kafka compares kcat's rate with it.
 *
 * --read reads the "handle" member of each document before the dump, as a
 * source taking its key does: with lazy documents (the default; the tree
 * parser with RDAPSYNC_JSON_PARSER=tree) that builds the tree, without it
 * the document stays text from parse to dump but for that member.
 *
 * --build measures each document first (host->json->measure), which builds
 * its whole tree, as a transform that reads the document does.
 *
 * --hold N keeps N parsed documents alive before releasing them together,
 * as a pipeline batch of N records does: the cost of that live set (cache
 * misses, allocator work) is part of any batched design, so this second
 * ceiling tells the batch's share from the pipeline's.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "json_api.h"

#define CHUNK (1024u * 1024u)

typedef struct out_buffer {
    char *data;
    size_t len, cap;
} out_buffer;

static int append(const char *bytes, size_t len, void *opaque)
{
    out_buffer *out = opaque;
    if (out->cap - out->len < len) {
        size_t cap = out->cap ? out->cap : CHUNK;
        while (cap - out->len < len)
            cap *= 2;
        char *grown = realloc(out->data, cap);
        if (!grown)
            return -1;
        out->data = grown;
        out->cap = cap;
    }
    memcpy(out->data + out->len, bytes, len);
    out->len += len;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void **held;
static size_t hold, held_count;
static bool use_jansson, validate_only, read_member, build_tree;

static void release_held(void)
{
    for (size_t i = 0; i < held_count; i++) {
        if (use_jansson)
            json_decref(held[i]);
        else
            json_api_table()->decref(held[i]);
    }
    held_count = 0;
}

static void *parse_dump(const char *line, size_t len, out_buffer *out, int *rc)
{
    if (use_jansson) {
        json_error_t error;
        json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error);
        if (v)
            *rc = json_dump_callback(v, append, out, JSON_COMPACT);
        return v;
    }
    char err[160];
    rdapsync_value *v = json_api_table()->parse(line, len, err, sizeof(err));
    if (v && read_member && !json_api_table()->object_get(v, "handle"))
        *rc = -1;
    if (v && build_tree) {
        rdapsync_json_shape shape;
        json_api_table()->measure(v, 512, &shape);
    }
    if (v && *rc == 0)
        *rc = json_api_table()->dump_cb(v, 0, append, out);
    return v;
}

static int handle_line(const char *line, size_t len, out_buffer *out, unsigned long long *records)
{
    int rc = 0;
    if (validate_only) {
        yajl_handle h = yajl_alloc(NULL, NULL, NULL);
        if (!h)
            return -1;
        if (yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
            yajl_complete_parse(h) == yajl_status_ok)
            (*records)++;
        yajl_free(h);
        return 0;
    }
    out->len = 0;
    void *v = parse_dump(line, len, out, &rc);
    if (!v)
        return 0; /* bad lines cost a parse, like in the pipeline */
    (*records)++;
    if (!hold) {
        if (use_jansson)
            json_decref(v);
        else
            json_api_table()->decref(v);
        return rc;
    }
    held[held_count++] = v;
    if (held_count == hold)
        release_held();
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jansson") == 0) {
            use_jansson = true;
        } else if (strcmp(argv[i], "--validate") == 0) {
            validate_only = true;
        } else if (strcmp(argv[i], "--read") == 0) {
            read_member = true;
        } else if (strcmp(argv[i], "--build") == 0) {
            build_tree = true;
        } else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
            hold = strtoul(argv[++i], NULL, 10);
            if (hold == 0 || !(held = calloc(hold, sizeof(*held)))) {
                fprintf(stderr, "json_ceiling: bad --hold %s\n", argv[i]);
                return 2;
            }
        } else if (!path) {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: json_ceiling [--jansson | --validate] [--read | --build] [--hold N] FILE\n");
        return 2;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    size_t cap = 4 * CHUNK, start = 0, end = 0;
    char *buf = malloc(cap);
    out_buffer out = {0};
    unsigned long long records = 0, bytes = 0;
    double t0 = now_s();

    for (;;) {
        if (cap - end < CHUNK) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
            if (cap - end < CHUNK && !(buf = realloc(buf, cap *= 2)))
                return 1;
        }
        ssize_t n = read(fd, buf + end, cap - end);
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0)
            break;
        end += (size_t)n;
        bytes += (unsigned long long)n;
        char *nl;
        while ((nl = memchr(buf + start, '\n', end - start)) != NULL) {
            if (handle_line(buf + start, (size_t)(nl - (buf + start)), &out, &records) != 0)
                return 1;
            start = (size_t)(nl + 1 - buf);
        }
    }
    if (end > start && handle_line(buf + start, end - start, &out, &records) != 0)
        return 1;
    release_held();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("records=%llu bytes=%llu seconds=%.3f cpu=%.3f\n", records, bytes, now_s() - t0,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec / 1e6);
    free(buf);
    free(held);
    free(out.data);
    close(fd);
    return 0;
}
