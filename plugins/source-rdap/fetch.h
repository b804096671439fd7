/* One HTTP request in flight (fetch.c), read by respond.c. Internal. */
#ifndef RDAP_FETCH_H
#define RDAP_FETCH_H

#include "source_rdap.h"

struct transfer {
    CURL *easy;
    size_t object;
    int server;
    char *url;              /* owned */
    char *body;             /* owned, NUL-terminated */
    size_t len;
    bool too_big;
    size_t max_size;        /* max_response_size */
    char *etag;             /* owned: response headers of interest */
    char *last_modified;
    char *retry_after;
    struct curl_slist *headers; /* owned: request headers */
    char errbuf[CURL_ERROR_SIZE];
};

#endif
