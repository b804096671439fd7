/*
 * The conformance kit's internals.
 *
 *   kit_main.c     command line, the case runner, PASS/FAIL lines
 *   kit_cases.c    the cases: what the contract promises, one function each
 *   kit_sink.c     the sink under test: loading, config, a host table that
 *                  records rejects, open/write/flush/close
 *   kit_records.c  generated changes, shuffles, the state they must give
 *   kit_state.c    the hook (read-back/reset) and state comparison
 *   kit_shell.c    the user's shell commands, SIGPIPE at its default
 */
#ifndef RDAPSYNC_TESTKIT_KIT_H
#define RDAPSYNC_TESTKIT_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <rdapsync/rdapsync.h>

#include "loader.h"

/* ---- kit_records.c ---- */

/* One generated change; every string owned. */
typedef struct kit_record {
    char *key; /* NULL: a record without a key */
    size_t key_len;
    rdapsync_op op;
    char *value; /* JSON text; NULL for deletes */
    int64_t ts;
    char *origin; /* NULL allowed (sorts as "") */
    int64_t seq;
} kit_record;

typedef struct kit_set {
    kit_record *items;
    size_t count, capacity;
} kit_set;

/* Appends a copy; exits the process on allocation failure (a test tool). */
kit_record *kit_set_add(kit_set *set, const char *key, size_t key_len, rdapsync_op op, const char *value, int64_t ts,
                        const char *origin, int64_t seq);
void kit_set_free(kit_set *set);
/* The version order of the SDK: event time, origin bytewise (NULL = ""), sequence. */
int kit_version_cmp(const kit_record *a, const kit_record *b);

/* xorshift64*: reproducible from --seed. */
uint64_t kit_rand(uint64_t *rng);
/* Uniform in [0, n). */
size_t kit_rand_below(uint64_t *rng, size_t n);
void kit_shuffle(const kit_record **items, size_t count, uint64_t *rng);

/* An RDAP-like domain document for `key` at `revision`, about `size` bytes
 * of JSON (at least ~300); caller frees. */
char *kit_document(const char *key, size_t key_len, int revision, size_t size, uint64_t *rng);

/* Key -> document after applying every record of `set` with the version
 * guard (deleted keys absent), sorted by key bytes. */
typedef struct kit_entry {
    char *key;
    size_t key_len;
    char *value; /* JSON text */
} kit_entry;

typedef struct kit_state {
    kit_entry *items;
    size_t count, capacity;
} kit_state;

void kit_state_expected(const kit_set *set, kit_state *out);
void kit_state_add(kit_state *state, const char *key, size_t key_len, const char *value);
void kit_state_sort(kit_state *state);
void kit_state_free(kit_state *state);

/* ---- kit_sink.c ---- */

typedef struct kit_reject {
    char *key; /* NULL if the record had none */
    size_t key_len;
    char *reason;
} kit_reject;

typedef struct kit_sink {
    loaded_plugin *plugin;
    const rdapsync_plugin *desc;
    void *config;       /* filled from --config */
    char *config_path;
    char *state_dir;    /* temporary, removed at the end */
    rdapsync_ctx *ctx;  /* of the open instance */
    void *state;
    bool open;
    /* Rejects reported through host->reject since the last kit_sink_take_rejects(). */
    kit_reject *rejects;
    size_t reject_count, reject_capacity;
    size_t overrides; /* checkpoint_override calls */
    /* The reason given with the first RETRY since the case started ("" if
     * none): shows which failure path a case went through. */
    char first_retry[512];
} kit_sink;

/* The kit's host table: the real one, with reject and checkpoint_override
 * recorded for the cases. */
const rdapsync_host *kit_host(void);

int kit_sink_load(kit_sink *sink, const char *plugin_path, const char *config_path, char *err, size_t err_size);
void kit_sink_unload(kit_sink *sink);
/* Fills a config from a YAML file of the sink's options (a mapping): options
 * and the sink's check(). Returns the struct (free with kit_sink_free_config)
 * or NULL with the reasons in err. */
void *kit_sink_config(const kit_sink *sink, const char *path, char *err, size_t err_size);
void kit_sink_free_config(const kit_sink *sink, void *config);

/* open() with `config` (the sink's own when NULL); the answer of open. */
rdapsync_status kit_sink_open(kit_sink *sink, const void *config, char *err, size_t err_size);
void kit_sink_close(kit_sink *sink);
/* Builds one batch of `records` (positions from a process-wide counter, so
 * they only grow) and calls write(). */
rdapsync_status kit_sink_write(kit_sink *sink, const kit_record *const *records, size_t count, char *err,
                               size_t err_size);
rdapsync_status kit_sink_flush(kit_sink *sink, char *err, size_t err_size);
/* write + flush the way the host does it: on RETRY from either, back off
 * (50 ms doubling to 1 s) and write the same batch again, up to `attempts`
 * times. Returns the last answer; *retries gets how many RETRYs there were. */
rdapsync_status kit_sink_deliver(kit_sink *sink, const kit_record *const *records, size_t count, int attempts,
                                 int *retries, char *err, size_t err_size);
void kit_sink_clear_rejects(kit_sink *sink);

/* ---- kit_state.c ---- */

typedef struct kit_hook {
    void *handle; /* --hook .so */
    int (*reset)(const char *arg, char *err, size_t err_size);
    int (*readback)(const char *arg, void *out, char *err, size_t err_size);
    const char *reset_cmd;
    const char *readback_cmd;
    const char *arg;
} kit_hook;

int kit_hook_load(kit_hook *hook, const char *path, char *err, size_t err_size);
void kit_hook_unload(kit_hook *hook);
int kit_hook_reset(const kit_hook *hook, char *err, size_t err_size);
/* Reads the stored state through the hook into `out` (sorted). */
int kit_hook_readback(const kit_hook *hook, kit_state *out, char *err, size_t err_size);
/* Compares structurally; on a difference returns false and describes the
 * first few in `why`. */
bool kit_state_equal(const kit_state *expected, const kit_state *actual, char *why, size_t why_size);

/* ---- kit_shell.c ---- */

/* Runs `sh -c cmd` like system(), but with SIGPIPE at its default action
 * in the command. Returns its wait status (0: exited 0), -1 if it could not
 * be started. */
int kit_shell(const char *cmd);
/* Starts `sh -c cmd` with its stdout readable from the returned stream,
 * like popen(cmd, "r"); NULL if it could not be started. Close with
 * kit_shell_close(), which also reaps the command (`pid`). */
FILE *kit_shell_open(const char *cmd, pid_t *pid);
/* The command's wait status, like pclose(); -1 if it could not be reaped. */
int kit_shell_close(FILE *out, pid_t pid);

/* ---- kit_cases.c ---- */

typedef struct kit_options {
    uint64_t seed;
    size_t large_batch;      /* records in the large-batch case */
    size_t long_key_bytes;   /* longest key that must be stored */
    const char *fail_cmd;    /* breaks the sink's connection; NULL: that case is skipped */
    const char *const *bad_configs;
    size_t bad_config_count;
} kit_options;

typedef enum kit_verdict { KIT_PASS = 0, KIT_FAIL = 1, KIT_SKIP = 2 } kit_verdict;

typedef struct kit_case {
    const char *name;
    const char *promise; /* one line: what passing proves */
    kit_verdict (*run)(kit_sink *sink, const kit_hook *hook, const kit_options *options, char *why,
                       size_t why_size);
} kit_case;

/* The cases, ended by a row whose name is NULL. */
extern const kit_case kit_cases[];

#endif
