/*
 * Running a configuration: one supervisor per pipeline, tasks as threads,
 * signals (SIGTERM/SIGINT drain and exit, SIGHUP reloads), the optional HTTP
 * endpoint. Used by `rdapsync run`.
 */
#ifndef RDAPSYNC_HOST_RUNTIME_H
#define RDAPSYNC_HOST_RUNTIME_H

#include "config/config.h"
#include "loader/loader.h"

/* Process exit codes of `rdapsync` (documented in docs/operations.md). */
enum {
    EXIT_OK = 0,            /* every pipeline drained and checkpointed */
    EXIT_TASK_FAILED = 1,   /* a task ended failed (restart limit reached) */
    EXIT_USAGE = 2,         /* bad command line */
    EXIT_CONFIG = 3,        /* the configuration is invalid (validate's errors printed) */
    EXIT_RUNTIME = 4        /* could not start: state dir, HTTP port, plugin open failed for good */
};

/*
 * Runs `config` until every pipeline has finished (bounded sources) or a
 * signal asks to stop. Takes ownership of `config` (it may be replaced on
 * SIGHUP by a new one loaded from the same path through `registry`).
 * Returns one of the exit codes above.
 */
int runtime_run(rdapsync_config *config, plugin_registry *registry);

#endif
