/* The suppression list (suppression.h). */
#include "base/suppression.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define HASH_LEN 64

struct suppression_list {
    char *path;
    unsigned char *key;
    size_t key_len;
    pthread_mutex_t lock;
    char (*hashes)[AUDIT_HASH_HEX]; /* sorted */
    size_t count;
    off_t loaded_size; /* -1: never loaded */
    unsigned generation; /* bumped by every load */
    /* HMAC keyed once: each lookup copies it rather than hashing the key
     * again (the step hashes every string of every record). Read-only. */
    EVP_MAC *mac;
    EVP_MAC_CTX *keyed;
};

static int key_mac(suppression_list *list)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END };
    list->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    list->keyed = list->mac ? EVP_MAC_CTX_new(list->mac) : NULL;
    return list->keyed && EVP_MAC_init(list->keyed, list->key, list->key_len, params) == 1 ? 0 : -1;
}

static int compare(const void *a, const void *b) { return strcmp(a, b); }

static bool is_hash_line(const char *line, size_t len)
{
    if (len != HASH_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
            return false;
    return true;
}

/* Reads the file again when its size changed. Under list->lock. */
static int refresh(suppression_list *list)
{
    struct stat st;
    if (stat(list->path, &st) < 0)
        return -1;
    if (st.st_size == list->loaded_size)
        return 0;
    FILE *f = fopen(list->path, "r");
    if (!f)
        return -1;
    size_t cap = (size_t)st.st_size / (HASH_LEN + 1) + 1, count = 0;
    char(*hashes)[AUDIT_HASH_HEX] = calloc(cap, sizeof(*hashes));
    char line[256];
    while (hashes && fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        /* Only whole lines: a torn last one has no newline. */
        if (len == 0 || line[len - 1] != '\n' || !is_hash_line(line, len - 1))
            continue;
        if (count == cap) {
            void *grown = realloc(hashes, 2 * cap * sizeof(*hashes));
            if (!grown)
                break;
            hashes = grown;
            cap *= 2;
        }
        memcpy(hashes[count], line, HASH_LEN);
        hashes[count++][HASH_LEN] = '\0';
    }
    fclose(f);
    if (!hashes)
        return -1;
    qsort(hashes, count, sizeof(*hashes), compare);
    free(list->hashes);
    list->hashes = hashes;
    list->count = count;
    list->loaded_size = st.st_size;
    list->generation++;
    return 0;
}

suppression_list *suppression_open(const char *path, const unsigned char *key, size_t key_len, char *err,
                                   size_t err_size)
{
    suppression_list *list = calloc(1, sizeof(*list));
    if (!list || !(list->path = strdup(path)) || !(list->key = malloc(key_len ? key_len : 1))) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    memcpy(list->key, key, key_len);
    list->key_len = key_len;
    list->loaded_size = -1;
    pthread_mutex_init(&list->lock, NULL);
    if (key_mac(list) != 0) {
        snprintf(err, err_size, "HMAC-SHA-256 is not available");
        suppression_close(list);
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "suppression list %s: %s", path, strerror(errno));
        pthread_mutex_destroy(&list->lock);
        goto fail;
    }
    close(fd);
    if (refresh(list) < 0) {
        snprintf(err, err_size, "cannot read suppression list %s: %s", path, strerror(errno));
        suppression_close(list);
        return NULL;
    }
    return list;
fail:
    if (list) {
        free(list->key);
        free(list->path);
        free(list);
    }
    return NULL;
}

void suppression_close(suppression_list *list)
{
    if (!list)
        return;
    OPENSSL_cleanse(list->key, list->key_len);
    EVP_MAC_CTX_free(list->keyed);
    EVP_MAC_free(list->mac);
    free(list->key);
    free(list->hashes);
    free(list->path);
    pthread_mutex_destroy(&list->lock);
    free(list);
}

int suppression_hash(const suppression_list *list, const char *kind, const char *normal, char out[AUDIT_HASH_HEX])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(list->keyed);
    int ok = ctx && EVP_MAC_update(ctx, (const unsigned char *)kind, strlen(kind)) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)":", 1) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)normal, strlen(normal)) == 1 &&
             EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 && mac_len == 32;
    EVP_MAC_CTX_free(ctx);
    if (!ok)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

static bool contains_locked(suppression_list *list, const char *hash)
{
    return list->count && bsearch(hash, list->hashes, list->count, sizeof(*list->hashes), compare) != NULL;
}

bool suppression_contains(suppression_list *list, const char *kind, const char *normal)
{
    char hash[AUDIT_HASH_HEX];
    if (suppression_hash(list, kind, normal, hash) < 0)
        return false;
    pthread_mutex_lock(&list->lock);
    bool found = contains_locked(list, hash);
    pthread_mutex_unlock(&list->lock);
    return found;
}

void suppression_refresh(suppression_list *list)
{
    pthread_mutex_lock(&list->lock);
    refresh(list);
    pthread_mutex_unlock(&list->lock);
}

unsigned suppression_generation(suppression_list *list)
{
    pthread_mutex_lock(&list->lock);
    unsigned generation = list->generation;
    pthread_mutex_unlock(&list->lock);
    return generation;
}

size_t suppression_count(suppression_list *list)
{
    pthread_mutex_lock(&list->lock);
    refresh(list);
    size_t count = list->count;
    pthread_mutex_unlock(&list->lock);
    return count;
}

/* Appends "hash\n" after cutting a torn last line; fd locked. */
static int append_line(int fd, const char *hash)
{
    struct stat st;
    char last;
    if (fstat(fd, &st) < 0)
        return -1;
    if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
        off_t keep = st.st_size - 1;
        while (keep > 0 && pread(fd, &last, 1, keep - 1) == 1 && last != '\n')
            keep--;
        if (ftruncate(fd, keep) < 0)
            return -1;
    }
    char line[HASH_LEN + 1];
    memcpy(line, hash, HASH_LEN);
    line[HASH_LEN] = '\n';
    if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line))
        return -1;
    return fsync(fd);
}

int suppression_add(suppression_list *list, const char *kind, const char *normal, char *err, size_t err_size)
{
    char hash[AUDIT_HASH_HEX];
    if (suppression_hash(list, kind, normal, hash) < 0) {
        snprintf(err, err_size, "HMAC failed");
        return -1;
    }
    int fd = open(list->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "suppression list %s: %s", list->path, strerror(errno));
        return -1;
    }
    int rc = -1;
    pthread_mutex_lock(&list->lock);
    if (flock(fd, LOCK_EX) == 0) {
        list->loaded_size = -1; /* read under the lock: another process may have added it */
        if (refresh(list) == 0 && contains_locked(list, hash))
            rc = 0;
        else if (append_line(fd, hash) == 0)
            rc = refresh(list);
        flock(fd, LOCK_UN);
    }
    pthread_mutex_unlock(&list->lock);
    if (rc < 0)
        snprintf(err, err_size, "cannot add to suppression list %s: %s", list->path, strerror(errno));
    close(fd);
    return rc;
}
