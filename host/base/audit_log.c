/* The audit trail's writer (audit_log.h). */
#include "base/audit_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/audit_head.h"

struct audit_log {
    char *path;
    int fd;
    unsigned char *key;
    size_t key_len;
    audit_key *sign_key;
    pthread_mutex_t lock;
    off_t known_size; /* the file's size after our last append; -1: read the head again */
    audit_head head;
};

audit_log *audit_log_open(const char *path, const unsigned char *key, size_t key_len, const char *sign_key_pem,
                          char *err, size_t err_size)
{
    audit_log *log = calloc(1, sizeof(*log));
    if (!log) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    log->fd = -1;
    log->known_size = -1;
    pthread_mutex_init(&log->lock, NULL);
    if (!(log->path = strdup(path)) || !(log->key = malloc(key_len ? key_len : 1))) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    memcpy(log->key, key, key_len);
    log->key_len = key_len;
    if (sign_key_pem && !(log->sign_key = audit_key_load(sign_key_pem, true, err, err_size)))
        goto fail;
    log->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log->fd < 0) {
        snprintf(err, err_size, "cannot open audit trail %s: %s", path, strerror(errno));
        goto fail;
    }
    return log;
fail:
    audit_log_close(log);
    return NULL;
}

void audit_log_close(audit_log *log)
{
    if (!log)
        return;
    if (log->fd >= 0)
        close(log->fd);
    audit_key_free(log->sign_key);
    if (log->key)
        OPENSSL_cleanse(log->key, log->key_len);
    free(log->key);
    free(log->path);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

int audit_log_subject_hash(const audit_log *log, const char *subject, char out[AUDIT_HASH_HEX])
{
    return audit_keyed_hash(log->key, log->key_len, subject, out);
}

static void now_rfc3339(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The line for the event after log->head, newline included (caller frees). */
static char *compose(audit_log *log, const char *event, json_t *fields, char *err, size_t err_size)
{
    char when[40], hash[AUDIT_HASH_HEX];
    char *entry = NULL, *sig = NULL, *line = NULL;
    json_t *obj = json_object();

    now_rfc3339(when, sizeof(when));
    if (!obj || json_object_set_new(obj, "seq", json_integer(log->head.seq + 1)) ||
        json_object_set_new(obj, "time", json_string(when)) || json_object_set_new(obj, "event", json_string(event)))
        goto oom;
    if (fields) {
        const char *name;
        json_t *value;
        json_object_foreach(fields, name, value) {
            if (strcmp(name, "seq") && strcmp(name, "time") && strcmp(name, "event") && strcmp(name, "prev") &&
                strcmp(name, "hash") && strcmp(name, "sig") && json_object_set(obj, name, value))
                goto oom;
        }
    }
    if (json_object_set_new(obj, "prev", json_string(log->head.hash)) ||
        !(entry = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        goto oom;
    size_t len = strlen(entry);
    if (audit_chain_hash(log->head.hash, entry, len, hash) < 0) {
        snprintf(err, err_size, "SHA-256 failed");
        goto done;
    }
    if (log->sign_key && !(sig = audit_sign(log->sign_key, hash))) {
        snprintf(err, err_size, "Ed25519 signing failed");
        goto done;
    }
    size_t size = len + 80 + (sig ? strlen(sig) + 10 : 0) + 3;
    if (!(line = malloc(size)))
        goto oom;
    /* The entry less its closing brace, then the chain members. */
    snprintf(line, size, "%.*s,\"hash\":\"%s\"%s%s%s}\n", (int)(len - 1), entry, hash, sig ? ",\"sig\":\"" : "",
             sig ? sig : "", sig ? "\"" : "");
    memcpy(log->head.next_hash, hash, sizeof(hash));
    goto done;
oom:
    snprintf(err, err_size, "out of memory");
done:
    free(sig);
    free(entry);
    json_decref(obj);
    return line;
}

static int write_all(int fd, const char *text, size_t len)
{
    /* O_APPEND: one write() lands whole at the end; a short write (full
     * disk) leaves a torn line that the next append removes. */
    while (len) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

static int append_locked(audit_log *log, const char *event, json_t *fields, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(log->fd, &st) < 0) {
        snprintf(err, err_size, "audit trail %s: %s", log->path, strerror(errno));
        return -1;
    }
    if (st.st_size != log->known_size) {
        /* First append, or another process appended, or a crash left a torn line. */
        if (audit_head_read(log->fd, &log->head, err, err_size) < 0)
            return -1;
        if (fstat(log->fd, &st) < 0)
            return -1;
    }
    char *line = compose(log, event, fields, err, err_size);
    if (!line)
        return -1;
    size_t len = strlen(line);
    int rc = write_all(log->fd, line, len);
    if (rc == 0)
        rc = fdatasync(log->fd);
    free(line);
    if (rc < 0) {
        snprintf(err, err_size, "cannot write audit trail %s: %s", log->path, strerror(errno));
        log->known_size = -1;
        return -1;
    }
    log->head.seq++;
    memcpy(log->head.hash, log->head.next_hash, AUDIT_HASH_HEX);
    log->known_size = st.st_size + (off_t)len;
    return 0;
}

int audit_log_append(audit_log *log, const char *event, json_t *fields, char *err, size_t err_size)
{
    int rc;
    pthread_mutex_lock(&log->lock);
    if (flock(log->fd, LOCK_EX) < 0) {
        snprintf(err, err_size, "cannot lock audit trail %s: %s", log->path, strerror(errno));
        pthread_mutex_unlock(&log->lock);
        return -1;
    }
    rc = append_locked(log, event, fields, err, err_size);
    flock(log->fd, LOCK_UN);
    pthread_mutex_unlock(&log->lock);
    return rc;
}
