/*
 * "Did you mean": the known word nearest to a misspelt one, as git and
 * cargo suggest. Used for unknown plugin names, option names, the host's
 * own keys and command names, so that they all follow one rule.
 *
 * Distance: optimal string alignment (Levenshtein, plus a swap of two
 * neighbouring characters as one edit: "valdiate" is one edit from
 * "validate"). A candidate is suggested when it is at most
 * max(3, length of the word) / 3 edits away: one edit for words of up to
 * five characters, two up to eight, and so on. Further than that, a
 * suggestion is more likely another word than a typo. Ties go to the
 * candidate seen first.
 */
#ifndef RDAPSYNC_HOST_SPELLING_H
#define RDAPSYNC_HOST_SPELLING_H

#include <stddef.h>

/* Longer words and candidates are never compared (nothing is suggested). */
#define SPELLING_MAX 64

typedef struct spelling {
    const char *word;            /* borrowed: what was written */
    size_t limit;                /* the most edits still suggested */
    size_t distance;             /* of best; above limit when there is none */
    char best[SPELLING_MAX + 1]; /* a copy: candidates may be temporary */
} spelling;

/* Edits between a and b (bytes; each longer than SPELLING_MAX counts as
 * SPELLING_MAX + 1 edits away from anything). */
size_t spelling_distance(const char *a, const char *b);

/* Starts a search for the candidate nearest to `word` (borrowed until the
 * last call on s). */
void spelling_start(spelling *s, const char *word);
/* Weighs one candidate (copied if it is the nearest so far). */
void spelling_consider(spelling *s, const char *candidate);
/* The nearest candidate close enough to suggest (points into s), or NULL. */
const char *spelling_nearest(const spelling *s);

/* start + consider each of the NULL-terminated `candidates` + nearest. */
const char *spelling_suggest(spelling *s, const char *word, const char *const *candidates);

#endif
