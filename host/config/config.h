/*
 * The configuration file, validated: pipelines with their plugins loaded and
 * their option structs filled. Nothing here runs plugin code except the
 * descriptors' check() hooks.
 *
 * File shape (every key below; anything else is an error with its place):
 *
 *   state_dir: var/state            # default "var/state" under the working directory
 *   plugin_path: [dir, ...]         # searched before RDAPSYNC_PLUGIN_PATH and the defaults
 *   http: { listen: "127.0.0.1:8080" }          # optional; TLS and authentication as in http_settings.h
 *   plugins: { sink-redis: { sha256: HEX } }    # pins checked before loading (plugin_pins.h)
 *   log: { format: text|json, level: error|warn|info|debug }
 *   otel: { endpoint: URL, service_name: NAME, sample_ratio: 0.01, headers: {...} }  # optional (otel_config.c)
 *   audit: { path: FILE, key: "${file:...}", sign_key: PEM }   # optional (compliance_config.h)
 *   compliance: { suppression: FILE, key: "${file:...}" }      # optional (compliance_config.h)
 *   pipelines:
 *     - name: NAME                  # [A-Za-z0-9_.-]+, unique
 *       tasks: 1                    # 1..64
 *       source:     { plugin: NAME, config: {...} }
 *       transforms: [ { plugin: NAME, config: {...} }, ... ]
 *       sink:       { plugin: NAME, config: {...} }
 *       batch:      { max_records: 1000, max_wait: 200ms, max_bytes: 16M, overlap: auto }
 *       retry:      { backoff_initial: 100ms, backoff_max: 30s }       # RETRY answers
 *       restart:    { max_failures: 5, window: 5m, backoff_initial: 1s, backoff_max: 60s }
 *       errors:     { tolerance: none|all, dead_letter: { plugin: NAME, config: {...},
 *                     protect: encrypt|redact|none, keyring: "${file:...}" } }
 *       retention:  { interval: 1h, action: delete|anonymise }   # the in-process purge (docs/compliance.md)
 */
#ifndef RDAPSYNC_HOST_CONFIG_H
#define RDAPSYNC_HOST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "config/yaml_tree.h"
#include "config/http_settings.h"
#include "config/otel_config.h"
#include "config/compliance_config.h"
#include "loader/loader.h"

typedef enum error_tolerance { TOLERANCE_NONE = 0, TOLERANCE_ALL = 1 } error_tolerance;

/* errors.dead_letter.protect: what the dead letters carry of a document
 * (docs/configuration.md). ENCRYPT seals it with the encrypt transform and
 * the dead letter's keyring; REDACT runs the pipeline's redact transform on
 * it; NONE writes it as it is. */
typedef enum dead_letter_protect { PROTECT_NONE = 0, PROTECT_ENCRYPT = 1, PROTECT_REDACT = 2 } dead_letter_protect;

/* One `{ plugin: NAME, config: {...} }` block. */
typedef struct plugin_block {
    char *name;                  /* owned */
    int line, column;            /* of the block */
    const ynode *config_node;    /* borrowed from the config's tree; may be NULL */
    const loaded_plugin *plugin; /* borrowed from the registry */
    void *settings;              /* owned: the filled option struct (descriptor config_size bytes) */
    bool flawed;                 /* an error was reported inside the block */
} plugin_block;

/* batch.overlap: whether a task polls batch N+1 while the sink flushes N. */
typedef enum batch_overlap {
    BATCH_OVERLAP_OFF = 0,  /* settle each batch before the next poll: one batch alive */
    BATCH_OVERLAP_ON = 1,   /* always: two batches alive */
    BATCH_OVERLAP_AUTO = 2  /* only while delivering takes a tenth of filling or more */
} batch_overlap;

/* batch.transform_thread: whether a task's transforms run on a thread of
 * their own while the task thread polls the next records. */
typedef enum transform_thread {
    TRANSFORM_THREAD_OFF = 0,
    TRANSFORM_THREAD_ON = 1,
    TRANSFORM_THREAD_AUTO = 2 /* with transforms, when the tasks leave a CPU idle */
} transform_thread;

/* Parts of a pipeline in which an error was reported (pipeline_config
 * flawed). validate_checks.c runs no advisory check on a flawed part: its
 * findings would only follow from the error already reported (a misspelt
 * errors.tolerance is not also "tolerance is none"). */
typedef enum pipeline_part {
    PART_MAPPING = 1u << 0, /* the pipeline mapping itself: a key unknown or missing, the name */
    PART_TASKS = 1u << 1,
    PART_SOURCE = 1u << 2,
    PART_TRANSFORMS = 1u << 3,
    PART_SINK = 1u << 4,
    PART_BATCH = 1u << 5,
    PART_RETRY = 1u << 6,
    PART_RESTART = 1u << 7,
    PART_ERRORS = 1u << 8 /* tolerance and the dead-letter block */
} pipeline_part;

typedef struct pipeline_config {
    char *name; /* owned */
    const char *file; /* borrowed: the configuration file's path, for places in messages; may be NULL */
    int line, column;
    int tasks;
    plugin_block source;
    plugin_block *transforms; /* owned array */
    size_t transform_count;
    plugin_block sink;
    error_tolerance tolerance;
    bool has_dead_letter;
    plugin_block dead_letter;
    dead_letter_protect protect;
    bool protect_explicit;     /* written in the file (protect: none is then a choice, not a default) */
    int protect_line, protect_column; /* of protect:, else of the dead_letter block */
    plugin_block protect_block; /* PROTECT_ENCRYPT: the encrypt transform with the dead letter's keyring */
    plugin_block suppress_block; /* compliance.suppression or retention anonymise: redact with the suppress policy */
    bool has_retention;            /* a retention: block: the daemon purges every retention_interval_ms */
    int64_t retention_interval_ms; /* default 1h */
    bool retention_anonymise;      /* action: anonymise (redact every contact) instead of delete */
    int64_t batch_max_records;
    int64_t batch_max_wait_ms;
    int64_t batch_max_bytes;
    batch_overlap batch_overlap; /* flush batch N while batch N+1 is polled (two batches alive) */
    transform_thread transform_thread;
    int64_t retry_backoff_initial_ms;
    int64_t retry_backoff_max_ms;
    int64_t restart_max_failures;
    int64_t restart_window_ms;
    int64_t restart_backoff_initial_ms;
    int64_t restart_backoff_max_ms;
    uint64_t fingerprint; /* hash of the pipeline's resolved text: reload restarts it only if changed */
    uint64_t policy_fingerprint; /* hash of what decides its redaction: a change is an audit event */
    unsigned flawed;      /* pipeline_part bits */
} pipeline_config;

typedef struct rdapsync_config {
    char *path;      /* owned */
    char *state_dir; /* owned */
    char **plugin_path; /* owned */
    size_t plugin_path_count;
    char *http_listen;  /* owned; NULL = no endpoint */
    http_settings http; /* owned: the endpoint's TLS and authentication */
    int log_json;       /* 0 text (key=value), 1 JSON lines */
    int log_level;      /* rdapsync_log_level */
    otel_settings otel; /* owned; endpoint NULL = no traces */
    compliance_settings compliance; /* owned: the audit trail and the suppression list, both optional */
    pipeline_config *pipelines; /* owned array */
    size_t pipeline_count;
    ynode *root; /* owned; plugin blocks point into it */
} rdapsync_config;

/*
 * Loads and validates `path`: YAML shape, ${env:NAME} / ${file:PATH}
 * resolution, plugin lookup through `registry` (loading .so files as needed),
 * every option table, every check() hook. Returns NULL if any error was
 * added to diags (warnings do not fail). Caller frees with config_free().
 * The file's plugin_path is added to the registry's search path with
 * registry_prepend_path() (after the CLI's --plugin-path directories, which
 * the caller gave to registry_new()). Free the config before the registry:
 * settings are freed through the plugins' option tables.
 */
rdapsync_config *config_load(const char *path, plugin_registry *registry, diag_list *diags);
/* The same from a tree already read from `path` (owned by the result, or
 * freed on failure); `dlq replay` loads a tree it rewrote. Fails when diags
 * holds more errors than `errors_before` (its count before the tree was
 * read: a duplicate key still gives a tree). */
rdapsync_config *config_load_tree(const char *path, ynode *tree, plugin_registry *registry, diag_list *diags,
                                  size_t errors_before);
void config_free(rdapsync_config *config);

#endif
