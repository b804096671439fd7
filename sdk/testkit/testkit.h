/*
 * rdapsync sink conformance kit: the read-back hook a sink's test provides.
 *
 * `rdapsync-sink-testkit` loads a sink .so, runs it through the contract of
 * plugin.h (open/close, write + flush, replays, shuffled replays, deletes,
 * unicode and long keys, large batches, a flush after a failure) and after
 * each case compares what the sink stored with what it should hold. It
 * learns what the sink stored through a hook, in one of two forms:
 *
 *   --hook FILE.so      a shared object exporting the two functions below;
 *   --reset-cmd CMD     two shell commands (sh -c) doing the same: the
 *   --readback-cmd CMD  reset empties the target, the read-back prints the
 *                       stored state on stdout.
 *
 * Both get the string given with --hook-arg (e.g. a table name); commands
 * also see it in the environment as RDAPSYNC_TESTKIT_ARG.
 *
 * The stored state is printed as JSON lines, one per live key, in any
 * order and any JSON formatting:
 *
 *     {"key": "example.com", "value": { ...the document as stored... }}
 *
 * Deleted keys (tombstones) are not printed. The kit parses each line and
 * compares values structurally (object member order and whitespace do not
 * matter; 1 and 1.0 do). See docs/testkit.md.
 */
#ifndef RDAPSYNC_TESTKIT_H
#define RDAPSYNC_TESTKIT_H

#include <stddef.h>
#include <stdio.h>

#define RDAPSYNC_TESTKIT_RESET_SYMBOL "rdapsync_testkit_reset"
#define RDAPSYNC_TESTKIT_READBACK_SYMBOL "rdapsync_testkit_readback"

/*
 * Empties whatever the sink writes to (drop or truncate the table, remove
 * the files), so that the next case starts from nothing; a sink configured
 * to create its target must be able to open afterwards. Called before every
 * case, with no sink instance open. Returns 0, or -1 with a one-line reason
 * in err.
 */
typedef int (*rdapsync_testkit_reset_fn)(const char *arg, char *err, size_t err_size);

/*
 * Writes the stored state to `out` as JSON lines (see above). Called while
 * the instance that wrote it may still be open (after a successful flush the
 * data must be visible to a new reader). Returns 0, or -1 with a reason.
 */
typedef int (*rdapsync_testkit_readback_fn)(const char *arg, FILE *out, char *err, size_t err_size);

/* What a hook .so defines (with default visibility):
 *
 *   int rdapsync_testkit_reset(const char *arg, char *err, size_t err_size);
 *   int rdapsync_testkit_readback(const char *arg, FILE *out, char *err, size_t err_size);
 */

#endif
