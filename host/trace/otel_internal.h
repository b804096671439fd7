/*
 * The exporter's private parts, shared by otel.c (queue, thread, HTTP) and
 * otel_json.c (the OTLP/JSON body) only.
 */
#ifndef RDAPSYNC_HOST_OTEL_INTERNAL_H
#define RDAPSYNC_HOST_OTEL_INTERNAL_H

#include "trace/otel.h"

/* A span as held in the queue: its strings copied into fixed buffers, so
 * that queueing never allocates. */
struct otel_queued {
    otel_span span; /* its string pointers are NULL or point into the buffers below */
    char name[32];
    char pipeline[96];
    char plugin[64];
    char stage[24];
    char key[160];
    char stream[128];
};

#endif
