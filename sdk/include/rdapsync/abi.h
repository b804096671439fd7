/*
 * rdapsync SDK: ABI version, result codes and plugin kinds.
 *
 * Compatibility rule: the ABI major changes when an existing field, type or
 * meaning changes; the minor changes when fields are appended to the end of
 * a struct that starts with its own size. The host refuses a plugin whose
 * major differs from its own, or whose minor is newer than its own.
 */
#ifndef RDAPSYNC_ABI_H
#define RDAPSYNC_ABI_H

#include <stddef.h>
#include <stdint.h>

#define RDAPSYNC_ABI_MAJOR 1
#define RDAPSYNC_ABI_MINOR 5

/* Whether `table`, a `type` that starts with its own struct_size, has the
 * field `field`: a plugin built against a newer minor than the host it runs
 * in tests this before it reads a field appended in that minor, e.g.
 * RDAPSYNC_HAS(rdapsync_json_api, host->json, measure). */
#define RDAPSYNC_HAS(type, table, field) \
    ((table)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* The one symbol every plugin exports (see plugin.h). */
#define RDAPSYNC_ENTRY_SYMBOL "rdapsync_plugin_entry"

#if defined(__GNUC__)
#define RDAPSYNC_EXPORT __attribute__((visibility("default")))
#define RDAPSYNC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define RDAPSYNC_EXPORT
#define RDAPSYNC_PRINTF(fmt, args)
#endif

/*
 * What every plugin callback answers.
 * OK     done.
 * RETRY  transient failure (server down, timeout): the host backs off and
 *        calls the same callback again with the same input. Plugins never
 *        sleep or loop on their own.
 * ERROR  permanent failure: for a per-record call the record goes to the
 *        dead-letter sink or fails the task (errors.tolerance); from open
 *        the task fails and is not restarted (the same options would fail
 *        the same way); from anything else the task fails and the
 *        supervisor decides about a restart.
 * END    sources only: the input is exhausted (bounded sources); the task
 *        drains, checkpoints and finishes.
 * DROP   transforms only: the record is consumed on purpose (filter); its
 *        position still counts as processed.
 */
typedef enum rdapsync_status {
    RDAPSYNC_OK = 0,
    RDAPSYNC_RETRY = 1,
    RDAPSYNC_ERROR = 2,
    RDAPSYNC_END = 3,
    RDAPSYNC_DROP = 4
} rdapsync_status;

/* A static string naming the status; never NULL. */
static inline const char *rdapsync_status_str(rdapsync_status status)
{
    switch (status) {
    case RDAPSYNC_OK: return "ok";
    case RDAPSYNC_RETRY: return "retry";
    case RDAPSYNC_ERROR: return "error";
    case RDAPSYNC_END: return "end";
    case RDAPSYNC_DROP: return "drop";
    }
    return "unknown";
}

typedef enum rdapsync_kind {
    RDAPSYNC_KIND_SOURCE = 1,
    RDAPSYNC_KIND_TRANSFORM = 2,
    RDAPSYNC_KIND_SINK = 3
} rdapsync_kind;

/* A static string ("source", "transform", "sink"); never NULL. */
static inline const char *rdapsync_kind_str(rdapsync_kind kind)
{
    switch (kind) {
    case RDAPSYNC_KIND_SOURCE: return "source";
    case RDAPSYNC_KIND_TRANSFORM: return "transform";
    case RDAPSYNC_KIND_SINK: return "sink";
    }
    return "unknown";
}

#endif
