/*
 * The status page's files (host/http_assets/), embedded in the binary at
 * build time by cmake/embed_assets.cmake. Internal to http*.c.
 */
#ifndef RDAPSYNC_HOST_HTTP_ASSETS_H
#define RDAPSYNC_HOST_HTTP_ASSETS_H

#include <stddef.h>

typedef struct http_asset {
    const char *path;         /* "/status.js": the file's name under / */
    const char *content_type; /* from the file's extension */
    const unsigned char *data; /* NUL-terminated; static */
    size_t size;              /* without that NUL */
} http_asset;

/* Every embedded file; ends with an entry whose path is NULL. */
extern const http_asset http_assets[];

/* The file served at `path`, or NULL. */
const http_asset *http_asset_find(const char *path);

#endif
