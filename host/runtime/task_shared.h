/*
 * The task's private parts: the one header that its three threads' files
 * share, and nothing else does:
 *   task.c            the task thread: open, poll, checkpoint, source
 *                     commit, close, and the loop
 *   task_transform.c  the transform stage (bad records, transforms,
 *                     compaction), on the task thread or a thread of its own
 *   task_flush.c      the flusher thread: sink write, dead letters, sink flush
 *   task_shared.c     what all three call (below)
 * A cycle (one batch's worth of work) is filled by the task thread, handed
 * to the flusher, and settled (checkpoint, commit, counts) by the task
 * thread again; a task has two, so one can be filled while the other is
 * flushed. Not for other modules: they use task.h. The stages' own entry
 * points are in task_transform.h and task_flush.h, for task.c.
 */
#ifndef RDAPSYNC_HOST_TASK_SHARED_H
#define RDAPSYNC_HOST_TASK_SHARED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdapsync/rdapsync.h>

#include "base/checkpoint.h"
#include "base/metrics.h"
#include "config/config.h"
#include "loader/context.h"
#include "runtime/redaction_tally.h"
#include "runtime/task_trace.h"
#include "trace/otel.h"

#define TASK_ERR_SIZE 1024

typedef struct instance {
    const plugin_block *block; /* borrowed from the pipeline */
    const rdapsync_plugin *desc;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
} instance;

/* How one retried call (or a cycle) ended. */
typedef enum call_end { CALL_DONE, CALL_STOPPED, CALL_FAILED } call_end;

typedef struct task_cycle {
    /* Filled by the task thread. */
    rdapsync_batch *batch;      /* what the source handed over, compacted to the survivors */
    rdapsync_batch *dead;       /* dead letters of this cycle (all stages) */
    checkpoint_map *positions;  /* last position per (stream, partition) */
    task_counts counts;         /* added to stats when the cycle is settled */
    size_t polled;              /* records the source handed over */
    size_t survivors;           /* records going to the sink */
    bool record_failed;         /* tolerance none: deliver the good prefix, then fail */

    /* Written by the flusher while the cycle is in its hands. */
    size_t attempt_rejects; /* sink rejects during the current write attempt */
    /* Sink rejects already made durable in the dead-letter sink:
     * dead[sink_dead_first, sink_dead_delivered). A rewrite after a flush
     * RETRY rejects them again; they are not dead-lettered twice. */
    size_t sink_dead_first, sink_dead_delivered;
    bool reject_fatal; /* tolerance none, or the dead-letter sink refused a dead letter */
    size_t rejects;    /* sink rejects of the write that got flushed */
    uint64_t latency_us; /* delivery: sink write, dead letters, sink flush */
    uint64_t fill_us;    /* poll, bad records, transforms */
    call_end delivered;
    char err[TASK_ERR_SIZE]; /* plugins' err buffer on the flusher thread */
    task_cycle_trace trace;  /* spans (task_trace.c); the thread holding the cycle */
    redaction_counts redactions; /* counted while the cycle was filled; audited once it is settled */
} task_cycle;

/* A one-slot handoff to the flusher thread. */
typedef struct task_flusher {
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    task_cycle *job; /* handed over and not delivered yet */
    bool quit;
} task_flusher;

/* With transforms, the source gets room for this many records per poll and
 * they are transformed before (serial) or while (threaded) the next are
 * polled: a parsed 4 KB document spans ~17 KB of arena, so a chunk (~550 KB) is
 * still in the core's L2 cache when it is transformed. Filling the whole batch
 * first (1,000 records, ~17 MB) sent every transform to main memory. */
#define TASK_POLL_CHUNK 32
/* Chunks in the transform thread's ring: the task thread may poll up to
 * two chunks ahead of it, which absorbs the jitter of either side
 * without making a thread wait (and sleep) at every handoff. */
#define TASK_CHUNKS 3

/*
 * The transform stage on a thread of its own (task_transform.c): the task
 * thread polls into chunks[k] of a ring and hands it over (full[k]); the
 * transformer takes the chunks in ring order, moves their records into
 * the cycle's batch and transforms them.
 * Everything below `lock` is under it, except the chunks' contents, which
 * belong to whoever full[] says.
 */
/* What the task thread did to one chunk's records before handing it over. */
typedef struct task_chunk_early {
    _Alignas(64) unsigned char verdict[TASK_POLL_CHUNK]; /* per record: how the early transforms ended */
    uint32_t to[TASK_POLL_CHUNK];                        /* per record: stages run early (a chain has far fewer than 2^32) */
    const instance *failed[TASK_POLL_CHUNK];
} task_chunk_early;

/* Fields on a cache line of their own are written by one thread at every
 * record or chunk: sharing a line with the other thread's would bounce it
 * between the cores. */
typedef struct task_transformer {
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rdapsync_batch *chunks[TASK_CHUNKS];
    atomic_bool full[TASK_CHUNKS]; /* handed over, not yet taken into the batch (set and cleared under lock) */
    size_t next;        /* the chunk the transformer takes next */
    size_t queued;      /* records in full chunks */
    bool quit;
    task_cycle *cycle;  /* the cycle being filled */
    size_t max_records; /* the cycle batch's capacity */
    size_t held;        /* records in the cycle's batch */
    bool over_bytes;    /* the cycle's batch reached batch.max_bytes */
    bool halt;          /* a record failed the task, or a stop during a retry */

    /* The chain is split: transforms [0, split) run on the task thread
     * right after the poll, [split, n) on the transformer. When transform
     * `split` may overlap itself (RDAPSYNC_TRANSFORM_CONCURRENT), the task
     * thread also runs it on a `share` of the records, so the two threads
     * can be balanced finer than a whole transform. Split and share
     * balance the threads by the costs measured in the last fills (set
     * between fills, when the transformer is idle). */
    size_t split, split_hi;         /* stages [0, split) / [0, split_hi) on the task thread (n: compaction); equal when share is 0 */
    double share;                   /* 0..1 of the records go to split_hi; 0 unless [split, split_hi) is concurrent */
    double *cost;                   /* ns per record per stage (smoothed; owned) */
    double poll_cost, stage_cost;   /* ns per record: poll; transformer's own work */
    task_chunk_early early[TASK_CHUNKS];

    /* Task thread only, during a fill. */
    _Alignas(64) double share_credit; /* Bresenham-style spreading of `share` over records */
    uint64_t poll_ns;                 /* this fill: time in poll() */
    uint64_t *spent_task;             /* ns per stage this fill (owned; a line of its own) */
    unsigned spin_shift_task;         /* wait_chunk's spin budget: the longest one >> this */

    /* Transformer only, during a fill. */
    _Alignas(64) call_end end; /* how the stage went: CALL_STOPPED, CALL_FAILED */
    size_t stop_at;            /* the record that failed the task, else SIZE_MAX */
    uint64_t busy_ns;          /* this fill: transformer busy */
    size_t records;            /* this fill: records moved */
    uint64_t *spent_x;         /* ns per stage this fill (owned; a line of its own) */
    unsigned spin_shift_x;     /* wait_chunk's spin budget: the longest one >> this */
    char err[TASK_ERR_SIZE];   /* plugins' err buffer on the transformer */
} task_transformer;

struct task {
    const pipeline_config *pipeline;
    int index;
    char *state_root;
    char *dir; /* <state_root>/<pipeline>/task-<i> */
    task_stats *stats;
    checkpoint_map *checkpoints;

    pthread_mutex_t lock; /* checkpoints, error, state changes */
    pthread_cond_t wake;  /* signalled by task_request_stop() */
    atomic_bool stop;
    atomic_bool draining; /* input ended or stop seen by the loop */
    atomic_int retrying;  /* backoff waits in progress (either thread) */
    bool ran;
    bool started; /* every plugin opened; set before the flusher starts */
    bool open_refused; /* a plugin's open answered ERROR: permanent, not restarted */

    context_owner owner; /* what the plugins' contexts forward to (task.c) */
    instance source, sink, dead_letter;
    instance protect; /* errors.dead_letter.protect encrypt: the encrypt transform (ctx NULL otherwise) */
    instance suppress; /* compliance.suppression: redact with the suppress policy (ctx NULL otherwise) */
    instance *transforms;
    size_t transform_count;

    task_cycle cycles[2];
    bool *keep;            /* per record of the cycle being filled: still going to the sink */
    task_cycle *flushing;  /* flusher thread only: the cycle whose sink half runs */
    task_flusher flusher;
    task_transformer transformer;

    char err[TASK_ERR_SIZE];   /* plugins' err buffer on the task thread */
    char error[TASK_ERR_SIZE]; /* why the task failed (under lock) */

    redaction_tally redactions; /* counted by the transforms since the last fill ended */
    int64_t retention_due_ms;   /* monotonic: the next retention purge (task_retention.c) */
    bool tracing;                      /* otel was on when the task started */
    task_trace_window *trace_windows; /* owned; one per transform, while tracing */
};

static inline const char *task_reason(const char *err) { return err[0] ? err : "(no reason given)"; }

void task_log(struct task *t, rdapsync_log_level level, const instance *inst, const char *fmt, ...)
    RDAPSYNC_PRINTF(4, 5);
/* Keeps the first reason (later ones are consequences). Either thread. */
void task_fail(struct task *t, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);
/* One RETRY answer (reason in err): count it, back off, report whether to
 * go on (false: a stop was requested). Either thread. */
bool task_retry_backoff(struct task *t, const instance *inst, const char *what, unsigned attempt,
                        const char *err);
/* A record that cannot go on, in cycle c: dead-letter it, or under
 * tolerance none fail the task naming the record. 0 when taken care of,
 * -1 when the task must fail. The thread that owns c. */
/* task_protect.c: applies errors.dead_letter.protect to a dead letter just
 * added to `dead` (any thread that routes bad records). Never fails: what
 * cannot be protected loses its document. */
void task_protect_dead_letter(struct task *t, rdapsync_batch *dead, rdapsync_record *copy);

int task_route_bad(struct task *t, task_cycle *c, const rdapsync_record *record, const char *reason,
                   error_stage stage, const char *plugin);

/* The task's clock: batch deadlines (max_wait) are measured with it;
 * tests replace it (task_test_set_clock; NULL: the real one). */
int64_t task_now_ms(void);
void task_clock_set(int64_t (*now_ms)(void));

/* Whether a stop was requested (task_request_stop). Any thread. */
bool task_stop_requested(const struct task *t);
/* Derives the task's state (starting, running, retrying, draining) for its
 * statistics from its flags. Either thread. */
void task_refresh_state(struct task *t);

/*
 * task_trace.c: the spans of a cycle; each is a no-op unless t->tracing.
 * start: at task_run (allocates; -1 out of memory). fill_begin / fill_end:
 * around cycle_fill, task thread (fill_end: the batch span's context from
 * the records' traceparent headers; the poll and transform spans).
 * transform: a transform k ran [start, end] (either thread). deliver_begin:
 * the flusher, before the first write: spans for sampled records, and each
 * record's traceparent header set for the sink. stage: a child span of the
 * batch from `start` to now (flusher or task thread, the cycle's holder).
 * deliver_end: the records' spans, after the sink's flush. settle: the
 * batch span, once the cycle is checkpointed (ok) or given up.
 */
int task_trace_start(struct task *t);
void task_trace_free(struct task *t);
void task_trace_fill_begin(struct task *t, task_cycle *c);
void task_trace_fill_end(struct task *t, task_cycle *c);
void task_trace_transform(struct task *t, size_t k, uint64_t start, uint64_t end);
void task_trace_deliver_begin(struct task *t, task_cycle *c);
void task_trace_stage(struct task *t, task_cycle *c, const char *name, const instance *inst, const char *stage,
                      uint64_t start, int64_t records, bool ok);
void task_trace_deliver_end(struct task *t, task_cycle *c);
void task_trace_settle(struct task *t, task_cycle *c, bool ok);
/* Unix ns when tracing, else 0 (no clock read). */
static inline uint64_t task_trace_now(const struct task *t) { return t->tracing ? otel_now_ns() : 0; }

#endif
