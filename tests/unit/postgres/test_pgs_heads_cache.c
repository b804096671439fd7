/*
 * The PostgreSQL sink's heads cache (pgs_heads_cache.c): what it answers
 * for known and unknown keys, that a transaction's updates count only
 * once committed, and that it stays within its budget however many keys
 * pass through it. When the sink may trust it (the register epoch) is
 * tested against a server: tests/integration/postgres/heads_cache.sh.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pgs.h"

static bool known(pgs_heads_cache *c, const char *key, const char **text)
{
    size_t len = 0;
    *text = NULL;
    int hit = pgs_heads_cache_get(c, key, strlen(key), text, &len);
    if (hit && *text)
        cr_assert_eq(len, strlen(*text));
    return hit == 1;
}

Test(pgs_heads_cache, a_key_put_is_known_with_its_text_or_as_having_none)
{
    pgs_heads_cache *c = pgs_heads_cache_new(1 << 20);
    const char *text;
    cr_assert_not(known(c, "k1", &text));
    pgs_heads_cache_put(c, "k1", 2, "[1]", 3);
    pgs_heads_cache_put(c, "k2", 2, NULL, 0);
    cr_assert(known(c, "k1", &text));
    cr_assert_str_eq(text, "[1]");
    cr_assert(known(c, "k2", &text));
    cr_assert_null(text);
    pgs_heads_cache_put(c, "k1", 2, "[2]", 3);
    cr_assert(known(c, "k1", &text));
    cr_assert_str_eq(text, "[2]");
    cr_assert_eq(pgs_heads_cache_count(c), 2);
    pgs_heads_cache_clear(c);
    cr_assert_not(known(c, "k1", &text));
    pgs_heads_cache_free(c);
}

Test(pgs_heads_cache, keys_differing_only_after_a_nul_byte_are_different_keys)
{
    pgs_heads_cache *c = pgs_heads_cache_new(1 << 20);
    const char *text;
    size_t len;
    pgs_heads_cache_put(c, "a\0b", 3, "[b]", 3);
    cr_assert_eq(pgs_heads_cache_get(c, "a\0c", 3, &text, &len), 0);
    cr_assert_eq(pgs_heads_cache_get(c, "a", 1, &text, &len), 0);
    cr_assert_eq(pgs_heads_cache_get(c, "a\0b", 3, &text, &len), 1);
    pgs_heads_cache_free(c);
}

Test(pgs_heads_cache, a_pending_update_is_seen_at_once_and_kept_only_when_committed)
{
    pgs_heads_cache *c = pgs_heads_cache_new(1 << 20);
    const char *text;
    pgs_heads_cache_put(c, "k", 1, "[old]", 5);
    pgs_heads_cache_pend(c, "k", 1, "[new]", 5);
    cr_assert(known(c, "k", &text));
    cr_assert_str_eq(text, "[new]", "a second write of the same transaction sees the first one's heads");
    pgs_heads_cache_abort(c);
    cr_assert(known(c, "k", &text));
    cr_assert_str_eq(text, "[old]", "a rolled back write never reaches the cache");

    pgs_heads_cache_pend(c, "k", 1, "[new]", 5);
    pgs_heads_cache_pend(c, "n", 1, "[n]", 3);
    pgs_heads_cache_commit(c);
    cr_assert(known(c, "k", &text));
    cr_assert_str_eq(text, "[new]");
    cr_assert(known(c, "n", &text));
    cr_assert_str_eq(text, "[n]");
    cr_assert_eq(pgs_heads_cache_count(c), 2);
    pgs_heads_cache_free(c);
}

Test(pgs_heads_cache, stays_within_its_budget_and_keeps_the_keys_used_last)
{
    /* Each entry takes about 100 bytes: 64 KB hold a few hundred. */
    pgs_heads_cache *c = pgs_heads_cache_new(64 * 1024);
    char key[32], value[64];
    const char *text;
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(value, sizeof value, "[{\"vv\":{\"a\":%d}}]", i);
        pgs_heads_cache_put(c, key, strlen(key), value, strlen(value));
        /* key-0 is used all along: it stays. */
        cr_assert(known(c, "key-0", &text), "key-0 lost at %d", i);
    }
    cr_assert_lt(pgs_heads_cache_count(c), 64 * 1024 / 64, "%zu keys kept", pgs_heads_cache_count(c));
    cr_assert_gt(pgs_heads_cache_count(c), 100);
    cr_assert(known(c, "key-99999", &text));
    cr_assert_str_eq(text, "[{\"vv\":{\"a\":99999}}]");
    cr_assert_not(known(c, "key-50000", &text));
    pgs_heads_cache_free(c);
}

Test(pgs_heads_cache, an_entry_bigger_than_half_the_budget_is_not_kept_and_forgets_the_old_one)
{
    pgs_heads_cache *c = pgs_heads_cache_new(1024);
    static char big[2048];
    memset(big, 'x', sizeof big - 1);
    const char *text;
    pgs_heads_cache_put(c, "k", 1, "[small]", 7);
    pgs_heads_cache_put(c, "k", 1, big, strlen(big));
    cr_assert_not(known(c, "k", &text), "the key's old heads must not stay known");
    pgs_heads_cache_pend(c, "k", 1, big, strlen(big));
    pgs_heads_cache_commit(c);
    cr_assert_not(known(c, "k", &text));
    pgs_heads_cache_free(c);
}
