/* The process-wide list of secret values, and ${env:}/${file:} expansion. */
#include "base/secrets.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_FILE_MAX (64 * 1024)
#define MASK "***"

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;      /* longest first, so a secret that contains another wins */
static size_t secret_count;
static size_t secret_capacity;

static bool known_locked(const char *value)
{
    for (size_t i = 0; i < secret_count; i++)
        if (strcmp(secrets[i], value) == 0)
            return true;
    return false;
}

void secrets_register(const char *value)
{
    if (!value || strlen(value) < SECRETS_MIN_LENGTH)
        return;
    pthread_mutex_lock(&secrets_lock);
    if (known_locked(value))
        goto out;
    if (secret_count == secret_capacity) {
        size_t capacity = secret_capacity ? secret_capacity * 2 : 16;
        char **grown = realloc(secrets, capacity * sizeof(*grown));
        if (!grown)
            goto out;
        secrets = grown;
        secret_capacity = capacity;
    }
    char *copy = strdup(value);
    if (!copy)
        goto out;
    size_t at = 0;
    size_t len = strlen(copy);
    while (at < secret_count && strlen(secrets[at]) >= len)
        at++;
    memmove(&secrets[at + 1], &secrets[at], (secret_count - at) * sizeof(*secrets));
    secrets[at] = copy;
    secret_count++;
out:
    pthread_mutex_unlock(&secrets_lock);
}

/* Length of the registered secret starting at `text`, or 0. */
static size_t match_locked(const char *text)
{
    for (size_t i = 0; i < secret_count; i++) {
        size_t len = strlen(secrets[i]);
        if (strncmp(text, secrets[i], len) == 0)
            return len;
    }
    return 0;
}

size_t secrets_mask(const char *in, char *out, size_t out_size)
{
    size_t written = 0;
    pthread_mutex_lock(&secrets_lock);
    for (const char *p = in; *p;) {
        size_t skip = secret_count ? match_locked(p) : 0;
        const char *piece = skip ? MASK : p;
        size_t piece_len = skip ? strlen(MASK) : 1;
        for (size_t i = 0; i < piece_len; i++, written++)
            if (out && written + 1 < out_size)
                out[written] = piece[i];
        p += skip ? skip : 1;
    }
    pthread_mutex_unlock(&secrets_lock);
    if (out && out_size)
        out[written < out_size ? written : out_size - 1] = '\0';
    return written;
}

bool secrets_contains(const char *text)
{
    bool found = false;
    pthread_mutex_lock(&secrets_lock);
    for (const char *p = text; *p && !found && secret_count; p++)
        found = match_locked(p) > 0;
    pthread_mutex_unlock(&secrets_lock);
    return found;
}

void secrets_reset(void)
{
    pthread_mutex_lock(&secrets_lock);
    for (size_t i = 0; i < secret_count; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    secret_count = secret_capacity = 0;
    pthread_mutex_unlock(&secrets_lock);
}

bool secrets_is_credential_name(const char *name)
{
    static const char *const words[] = { "password", "passwd", "pwd", "secret", "token", "credential",
                                         "apikey", "api_key", "api-key", "private_key", "private-key",
                                         "key.pem", "oauthbearer.config", "jaas", NULL };
    for (size_t i = 0; words[i]; i++) {
        size_t len = strlen(words[i]);
        for (const char *p = name; *p; p++)
            if (strncasecmp(p, words[i], len) == 0)
                return true;
    }
    return false;
}

/* ---- expansion ---- */

typedef struct text_buffer {
    char *data;
    size_t len;
    size_t capacity;
} text_buffer;

static int buffer_append(text_buffer *buf, const char *bytes, size_t len)
{
    if (buf->len + len + 1 > buf->capacity) {
        size_t capacity = buf->capacity ? buf->capacity : 64;
        while (capacity < buf->len + len + 1)
            capacity *= 2;
        char *grown = realloc(buf->data, capacity);
        if (!grown)
            return -1;
        buf->data = grown;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

/* Reads a secret file; caller frees. The message names the file only. */
static char *read_secret_file(const char *path, char *err, size_t err_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "cannot read ${file:%s}: %s", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(SECRET_FILE_MAX + 1);
    size_t len = data ? fread(data, 1, SECRET_FILE_MAX + 1, file) : 0;
    int failed = !data || ferror(file);
    fclose(file);
    if (failed) {
        snprintf(err, err_size, "cannot read ${file:%s}", path);
        goto fail;
    }
    if (len > SECRET_FILE_MAX) {
        snprintf(err, err_size, "${file:%s} is larger than %d bytes", path, SECRET_FILE_MAX);
        goto fail;
    }
    if (memchr(data, '\0', len)) {
        snprintf(err, err_size, "${file:%s} contains a NUL byte", path);
        goto fail;
    }
    if (len > 0 && data[len - 1] == '\n') {
        len--;
        if (len > 0 && data[len - 1] == '\r')
            len--;
    }
    data[len] = '\0';
    return data;
fail:
    free(data);
    return NULL;
}

/* Resolves one reference body ("env:NAME" or "file:PATH"); caller frees.
 * *from_file tells which kind it was. */
static char *resolve_reference(const char *body, bool *from_file, char *err, size_t err_size)
{
    *from_file = false;
    if (strncmp(body, "env:", 4) == 0) {
        const char *name = body + 4;
        if (!*name) {
            snprintf(err, err_size, "empty variable name in ${env:}");
            return NULL;
        }
        const char *value = getenv(name);
        if (!value) {
            snprintf(err, err_size, "environment variable %s is not set (referenced as ${env:%s})", name, name);
            return NULL;
        }
        return strdup(value);
    }
    if (strncmp(body, "file:", 5) == 0) {
        *from_file = true;
        if (!body[5]) {
            snprintf(err, err_size, "empty path in ${file:}");
            return NULL;
        }
        return read_secret_file(body + 5, err, err_size);
    }
    snprintf(err, err_size, "unknown reference ${%s} (use ${env:NAME} or ${file:PATH}; write $${ for a literal ${)",
             body);
    return NULL;
}

int secrets_expand(const char *text, bool secret, char **out, bool *had_reference, char *err, size_t err_size)
{
    text_buffer buf = { 0 };
    bool referenced = false;
    *out = NULL;
    if (buffer_append(&buf, "", 0) < 0)
        goto nomem;
    for (const char *p = text; *p;) {
        if (strncmp(p, "$${", 3) == 0) {
            if (buffer_append(&buf, "${", 2) < 0)
                goto nomem;
            p += 3;
            continue;
        }
        if (strncmp(p, "${", 2) != 0) {
            const char *next = strchr(p + 1, '$');
            size_t len = next ? (size_t)(next - p) : strlen(p);
            if (buffer_append(&buf, p, len) < 0)
                goto nomem;
            p += len;
            continue;
        }
        const char *close = strchr(p + 2, '}');
        if (!close) {
            snprintf(err, err_size, "unterminated ${ (write $${ for a literal ${)");
            goto fail;
        }
        char *body = strndup(p + 2, (size_t)(close - p - 2));
        if (!body)
            goto nomem;
        bool from_file;
        char *value = resolve_reference(body, &from_file, err, err_size);
        free(body);
        if (!value)
            goto fail;
        if (secret || from_file)
            secrets_register(value);
        int appended = buffer_append(&buf, value, strlen(value));
        free(value);
        if (appended < 0)
            goto nomem;
        referenced = true;
        p = close + 1;
    }
    *out = buf.data;
    if (had_reference)
        *had_reference = referenced;
    return 0;
nomem:
    snprintf(err, err_size, "out of memory");
fail:
    free(buf.data);
    return -1;
}
