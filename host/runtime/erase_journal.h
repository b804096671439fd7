/*
 * The journal of one erasure (`rdapsync erase`), so that a run stopped
 * halfway (a crash, an unreachable store) resumes where it stopped:
 * <state_dir>/compliance/erase-<subject hash>.journal, one line per sink
 * finished ("PIPELINE TARGET TASK CHANGED"), appended and fsync()ed. The
 * subject appears only as its keyed hash, in the file name. The journal
 * goes once every sink is done; a later erase of the same subject starts
 * afresh (and finds nothing left: erasure is idempotent).
 */
#ifndef RDAPSYNC_HOST_ERASE_JOURNAL_H
#define RDAPSYNC_HOST_ERASE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct erase_journal erase_journal;

/* Opens (or creates) the journal of `subject_hash` under state_dir. NULL
 * with a reason in err. Free with erase_journal_close(). */
erase_journal *erase_journal_open(const char *state_dir, const char *subject_hash, char *err, size_t err_size);
/* Whether `sink` ("pipeline/target/task") finished in an earlier run; its
 * count in *changed. */
bool erase_journal_done(const erase_journal *j, const char *sink, uint64_t *changed);
/* Records `sink` as finished. 0 or -1 (errno). */
int erase_journal_mark(erase_journal *j, const char *sink, uint64_t changed);
/* How many sinks an earlier run finished. */
size_t erase_journal_resumed(const erase_journal *j);
/* Removes the journal (every sink done). */
void erase_journal_finish(erase_journal *j);
void erase_journal_close(erase_journal *j);

#endif
