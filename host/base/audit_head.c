/* Reading an audit trail's head back (audit_head.h). */
#include "base/audit_head.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static char *last_newline(char *buf, size_t len)
{
    while (len-- > 0)
        if (buf[len] == '\n')
            return buf + len;
    return NULL;
}

/* The file's last `want` bytes (fewer at its start) into a malloc'd buffer. */
static char *read_tail(int fd, off_t size, size_t want, size_t *got)
{
    off_t from = size > (off_t)want ? size - (off_t)want : 0;
    size_t len = (size_t)(size - from), done = 0;
    char *buf = malloc(len + 1);
    while (buf && done < len) {
        ssize_t n = pread(fd, buf + done, len - done, from + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        done += (size_t)n;
    }
    if (buf)
        buf[len] = '\0';
    *got = len;
    return buf;
}

static int parse_line(const char *line, size_t len, audit_head *head, char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *obj = json_loadb(line, len, 0, &jerr);
    json_t *seq = obj ? json_object_get(obj, "seq") : NULL;
    json_t *hash = obj ? json_object_get(obj, "hash") : NULL;
    int rc = -1;
    if (json_is_integer(seq) && json_is_string(hash) && strlen(json_string_value(hash)) == 64) {
        head->seq = json_integer_value(seq);
        memcpy(head->hash, json_string_value(hash), AUDIT_HASH_HEX);
        rc = 0;
    } else {
        snprintf(err, err_size, "the last line of the audit trail is not a trail line (run 'rdapsync audit verify')");
    }
    json_decref(obj);
    return rc;
}

int audit_head_read(int fd, audit_head *head, char *err, size_t err_size)
{
    struct stat st;
    size_t want = 4096, len = 0;
    head->seq = 0;
    memcpy(head->hash, AUDIT_GENESIS, AUDIT_HASH_HEX);
    if (fstat(fd, &st) < 0) {
        snprintf(err, err_size, "audit trail: %s", strerror(errno));
        return -1;
    }
    if (st.st_size == 0)
        return 0;
    for (;;) {
        char *buf = read_tail(fd, st.st_size, want, &len);
        if (!buf) {
            snprintf(err, err_size, "cannot read the audit trail: %s", strerror(errno));
            return -1;
        }
        bool whole_file = (off_t)len == st.st_size;
        char *end = buf + len;
        if (end[-1] != '\n') {
            /* A torn last line: never acknowledged, so it goes. */
            char *nl = last_newline(buf, len);
            if (!nl && !whole_file) {
                free(buf);
                want *= 4;
                continue;
            }
            off_t keep = st.st_size - (off_t)(end - (nl ? nl + 1 : buf));
            if (ftruncate(fd, keep) < 0 || fsync(fd) < 0) {
                snprintf(err, err_size, "cannot cut a torn line off the audit trail: %s", strerror(errno));
                free(buf);
                return -1;
            }
            free(buf);
            if (keep == 0)
                return 0;
            st.st_size = keep;
            continue;
        }
        end--; /* the newline */
        char *start = last_newline(buf, (size_t)(end - buf));
        if (!start && !whole_file) {
            free(buf);
            want *= 4;
            continue;
        }
        start = start ? start + 1 : buf;
        int rc = parse_line(start, (size_t)(end - start), head, err, err_size);
        free(buf);
        return rc;
    }
}
