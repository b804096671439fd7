/*
 * In-process test plugins for the task and supervisor tests: descriptors
 * built here and handed to a hand-made pipeline_config, so the real task
 * code runs against plugins whose every answer the test scripts.
 */
#ifndef RDAPSYNC_TEST_FAKES_H
#define RDAPSYNC_TEST_FAKES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "config.h"

#define FAKE_MAX_RECORDS 4096
#define FAKE_MAX_EVENTS 64

/* Records k0, k1, ... on stream "s" partition 0, offset i + 1. */
typedef struct fake_source_cfg {
    int total;             /* records to hand over, then END; -1 never ends */
    int per_poll;          /* at most this many per poll (0: as many as room) */
    int bad[8];            /* indices handed over as bad (record_set_bad) */
    int bad_count;
    int poll_retries;      /* first N polls answer RETRY */
    int key_padding;       /* keys padded with 'x' to this length */
    bool open_error;       /* open answers ERROR */
    int commit_retries;    /* first N commits answer RETRY */
} fake_source_cfg;

typedef struct fake_transform_cfg {
    const char *error_key; /* ERROR for this key */
    const char *drop_key;  /* DROP for this key */
    int retries;           /* first N calls answer RETRY */
    bool concurrent;       /* the descriptor sets RDAPSYNC_TRANSFORM_CONCURRENT */
    bool light;            /* the descriptor sets RDAPSYNC_TRANSFORM_LIGHT (not with concurrent) */
} fake_transform_cfg;

/* What a fake sink stored; one store per sink role. */
typedef struct fake_store {
    int written;                       /* records in write() calls, cumulative */
    int durable;                       /* records made durable by flush() */
    char *keys[FAKE_MAX_RECORDS];      /* durable keys, in order (owned) */
    char *errors[FAKE_MAX_RECORDS];    /* durable record->error (owned, may be NULL) */
    char *headers[FAKE_MAX_RECORDS];   /* "name=value\n..." (owned) */
    char *raw[FAKE_MAX_RECORDS];       /* raw bytes (owned, may be NULL) */
    int write_calls, flush_calls;
    const struct fake_store *watch;    /* if set: */
    int watch_durable_at_flush;        /* watch->durable when this store last flushed OK */
    int batch_sizes[FAKE_MAX_RECORDS]; /* per write call */
    int64_t written_to;                /* position offset after the last record of the last write */
    atomic_int busy;                   /* callbacks of this store's sink running now */
} fake_store;

typedef struct fake_sink_cfg {
    fake_store *store;
    const char *reject_key;  /* host->reject for this key */
    int write_retries;       /* first N writes answer RETRY */
    int flush_retries;       /* first N flushes answer RETRY */
    bool flush_error;        /* flush answers ERROR */
    int flush_error_at;      /* flush call N (1-based) answers ERROR */
    int flush_retries_from;  /* flush_retries start at flush call N (1-based; 0: at once) */
    int flush_waits_for_poll; /* the first N flushes wait until the source polls past their batch */
    int flush_sleep_ms;       /* every flush takes this long (a database commit) */
    bool always_retry;       /* write always answers RETRY */
    const char *override_stream; /* on open: checkpoint_override(stream, 0, override_offset) */
    int64_t override_offset;
} fake_sink_cfg;

/* Global observations (Criterion runs each test in its own process). */
typedef struct fake_world {
    int commits;
    int64_t committed_offset;     /* last offset committed for ("s", 0) */
    int handed_over;              /* records the source added */
    int max_outstanding;          /* max over polls of handed_over - committed_offset */
    int64_t start_offset;         /* what checkpoint_get gave the source at open (-1: none) */
    char events[FAKE_MAX_EVENTS][32]; /* "open source", "close sink", ... */
    int event_count;
    int open_calls;
    const fake_store *commit_watch;   /* if set, its durable count is noted at each commit: */
    int64_t commit_log[FAKE_MAX_EVENTS];
    int durable_at_commit[FAKE_MAX_EVENTS];
    atomic_int sink_overlaps;         /* a sink callback started while another of the same sink ran */
    atomic_int source_thread_changes; /* a source callback ran on another thread than its open */
    atomic_int sink_thread_changes;   /* write/flush of one sink ran on different threads */
    atomic_int transform_overlaps;    /* a callback of a transform instance started while another of it ran */
    atomic_int transform_threads;     /* most threads one transform instance's calls ran on */
} fake_world;

extern fake_world fake;

/* Waits until the source starts a poll for records from `offset` on
 * (that is, with every record before it handed over); false after
 * `seconds` without one. */
bool fake_wait_poll_from(int64_t offset, int seconds);

extern const rdapsync_plugin fake_source_desc;
extern const rdapsync_plugin fake_transform_desc;
extern const rdapsync_plugin fake_concurrent_transform_desc; /* the same, with RDAPSYNC_TRANSFORM_CONCURRENT */
extern const rdapsync_plugin fake_light_transform_desc;      /* the same, with RDAPSYNC_TRANSFORM_LIGHT */
extern const rdapsync_plugin fake_sink_desc;
extern const rdapsync_plugin fake_dlq_desc;

/* A pipeline of the fakes with the given settings (borrowed); transform and
 * dead letter optional (NULL). Freed with fake_pipeline_free(). Defaults:
 * 1 task, max_records 10, max_wait 1 h, no byte limit, retry and restart
 * backoff 1..2 ms, restart 3 failures in 1 h, tolerance all. */
pipeline_config *fake_pipeline(const char *name, fake_source_cfg *source, fake_transform_cfg *transform,
                               fake_sink_cfg *sink, fake_sink_cfg *dead_letter);
/* Appends one more fake transform (settings borrowed) to the chain. */
void fake_pipeline_add_transform(pipeline_config *pipeline, fake_transform_cfg *transform);
void fake_pipeline_free(pipeline_config *pipeline);
void fake_store_free(fake_store *store);
/* A fresh temporary state directory (caller frees the string). */
char *fake_state_dir(void);
/* Removes a directory tree made by the tests; NULL-safe. */
void fake_remove_tree(const char *dir);

#endif
