/*
 * Helpers for the transform unit tests: JSON through the host's own table,
 * fixtures from tests/fixtures/rdap, a small path lookup for asserting
 * on documents, and the built plugins driven through the real loader,
 * option filler, contexts and batches.
 */
#ifndef TRANSFORMS_HARNESS_H
#define TRANSFORMS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "loader.h"

/* The host's JSON table (host_api_table()->json). */
const rdapsync_json_api *J(void);
const rdapsync_host *H(void);

/* Parses `text` (fails the test if it does not parse). Caller decrefs. */
rdapsync_value *json(const char *text);
/* A fixture file under tests/fixtures/rdap ("domain-full.json", "bad/x.json"), parsed. */
rdapsync_value *fixture(const char *name);
/* The raw bytes of a fixture (caller frees); *len its length. */
char *fixture_bytes(const char *name, size_t *len);
/* Compact serialization (caller frees with free()). */
char *dump(const rdapsync_value *value);

/* The value at a dotted path with [i] indexes ("contacts.registrant[0].emails[0]"),
 * borrowed, or NULL. Keys with dots or brackets are not supported. */
rdapsync_value *at(const rdapsync_value *value, const char *path);
/* The string at path, or NULL. */
const char *str_at(const rdapsync_value *value, const char *path);
/* True when the serialization of value contains `needle`. */
bool contains(const rdapsync_value *value, const char *needle);

/* The directory of the shipped policies (config/policies in the source tree). */
const char *policy_dir(void);

typedef struct plugin_instance {
    loaded_plugin *plugin;
    void *settings;
    rdapsync_ctx *ctx;
    void *state;
    bool opened;
    char err[1024];
} plugin_instance;

/* Loads transform-<name>.so with options from `yaml` ("{policy: x}"), opens it;
 * returns the open status (err in pi->err). */
rdapsync_status plugin_start(plugin_instance *pi, const char *name, const char *yaml);
void plugin_stop(plugin_instance *pi);
/* One record (key may be NULL; value stolen; event_time_ms 0 = none) in a new batch. */
rdapsync_batch *one_record(const char *key, rdapsync_value *value, int64_t event_time_ms);
/* Runs the transform on record 0 of batch. */
rdapsync_status plugin_transform(plugin_instance *pi, rdapsync_batch *batch);

#endif
