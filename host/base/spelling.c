/* "Did you mean": the nearest known word by edit distance. */
#include "base/spelling.h"

#include <stdint.h>
#include <string.h>

size_t spelling_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > SPELLING_MAX || m > SPELLING_MAX)
        return SPELLING_MAX + 1;
    /* Three rows of the classic table: the swap looks two rows back. */
    size_t rows[3][SPELLING_MAX + 1];
    size_t *before = rows[0], *previous = rows[1], *current = rows[2];
    for (size_t j = 0; j <= m; j++)
        previous[j] = j;
    for (size_t i = 1; i <= n; i++) {
        current[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = previous[j - 1] + cost;
            if (previous[j] + 1 < best)
                best = previous[j] + 1;
            if (current[j - 1] + 1 < best)
                best = current[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            current[j] = best;
        }
        size_t *oldest = before;
        before = previous;
        previous = current;
        current = oldest;
    }
    return previous[m];
}

void spelling_start(spelling *s, const char *word)
{
    size_t len = strlen(word);
    s->word = word;
    s->limit = (len > 3 ? len : 3) / 3;
    s->distance = SIZE_MAX;
    s->best[0] = '\0';
}

void spelling_consider(spelling *s, const char *candidate)
{
    if (!candidate || strlen(candidate) > SPELLING_MAX || strcmp(candidate, s->word) == 0)
        return;
    size_t distance = spelling_distance(s->word, candidate);
    if (distance >= s->distance)
        return;
    s->distance = distance;
    memcpy(s->best, candidate, strlen(candidate) + 1);
}

const char *spelling_nearest(const spelling *s)
{
    return s->distance <= s->limit ? s->best : NULL;
}

const char *spelling_suggest(spelling *s, const char *word, const char *const *candidates)
{
    spelling_start(s, word);
    for (size_t i = 0; candidates && candidates[i]; i++)
        spelling_consider(s, candidates[i]);
    return spelling_nearest(s);
}
