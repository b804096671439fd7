/*
 * The version order of record.h, and its byte-sortable key: memcmp of two
 * keys must order them as rdapsync_version_compare() does, for every pair.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

Test(sinktk_version, order_is_time_then_origin_bytewise_then_sequence)
{
    rdapsync_version a = { 10, "b", 1 }, b = { 11, "a", 0 };
    cr_assert_lt(rdapsync_version_compare(&a, &b), 0, "event time decides first");
    rdapsync_version c = { 10, "a", 9 }, d = { 10, "b", 0 };
    cr_assert_lt(rdapsync_version_compare(&c, &d), 0, "then origin");
    rdapsync_version e = { 10, "Z", 0 }, f = { 10, "a", 0 };
    cr_assert_lt(rdapsync_version_compare(&e, &f), 0, "origin compares bytewise, not by locale");
    rdapsync_version g = { 10, "\xc3\xa9", 0 }, i = { 10, "z", 0 };
    cr_assert_gt(rdapsync_version_compare(&g, &i), 0, "bytes above 0x7f sort after ASCII");
    rdapsync_version j = { 10, NULL, 5 }, k = { 10, "", 5 };
    cr_assert_eq(rdapsync_version_compare(&j, &k), 0, "a NULL origin is the empty origin");
    rdapsync_version l = { 10, "a", 1 }, m = { 10, "a", 2 };
    cr_assert_lt(rdapsync_version_compare(&l, &m), 0, "then sequence");
    cr_assert_gt(rdapsync_version_compare(&m, &l), 0);
    cr_assert_eq(rdapsync_version_compare(&m, &m), 0);
}

static int key_compare(const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a_len == b_len ? 0 : a_len < b_len ? -1 : 1;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

static const int64_t numbers[] = { INT64_MIN, INT64_MIN + 1, -256, -1, 0, 1, 255, 256, 1700000000000, INT64_MAX };
static const char *const origins[] = { NULL, "", "a", "a\x01", "ab", "b", "Z", "\x7f", "\x80", "\xc3\xa9", "\xff" };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

Test(sinktk_version, keys_compared_as_bytes_order_versions_like_compare)
{
    size_t n = COUNT(numbers) * COUNT(origins) * 3;
    rdapsync_version *v = calloc(n, sizeof(*v));
    size_t count = 0;
    for (size_t t = 0; t < COUNT(numbers); t++)
        for (size_t o = 0; o < COUNT(origins); o++)
            for (size_t s = 0; s < 3; s++)
                v[count++] = (rdapsync_version){ numbers[t], origins[o], numbers[(t + 3 * s + o) % COUNT(numbers)] };
    unsigned char ka[64], kb[64];
    for (size_t i = 0; i < count; i++) {
        size_t la = rdapsync_version_key(&v[i], ka, sizeof(ka));
        for (size_t j = 0; j < count; j++) {
            size_t lb = rdapsync_version_key(&v[j], kb, sizeof(kb));
            cr_assert_eq(sign(key_compare(ka, la, kb, lb)), sign(rdapsync_version_compare(&v[i], &v[j])),
                         "versions %zu and %zu", i, j);
        }
    }
    free(v);
}

Test(sinktk_version, a_key_reads_back_as_its_version_with_the_origin_borrowed)
{
    rdapsync_version v = { -42, "registry-\xc3\xa9", INT64_MAX };
    unsigned char key[64];
    size_t len = rdapsync_version_key(&v, key, sizeof(key));
    cr_assert_eq(len, RDAPSYNC_VERSION_KEY_FIXED + strlen(v.origin));
    rdapsync_version back;
    cr_assert_eq(rdapsync_version_from_key(key, len, &back), 0);
    cr_assert_eq(back.event_time_ms, -42);
    cr_assert_eq(back.sequence, INT64_MAX);
    cr_assert_str_eq(back.origin, v.origin);
    cr_assert(back.origin >= (const char *)key && back.origin < (const char *)key + len, "points into the key");
}

Test(sinktk_version, sizing_a_key_writes_nothing_and_a_null_origin_is_empty)
{
    rdapsync_version v = { 1, NULL, 2 };
    unsigned char key[RDAPSYNC_VERSION_KEY_FIXED];
    memset(key, 0xAA, sizeof(key));
    cr_assert_eq(rdapsync_version_key(&v, NULL, 0), RDAPSYNC_VERSION_KEY_FIXED);
    cr_assert_eq(rdapsync_version_key(&v, key, sizeof(key) - 1), RDAPSYNC_VERSION_KEY_FIXED);
    cr_assert_eq(key[0], 0xAA, "a key that does not fit is not written");
    cr_assert_eq(rdapsync_version_key(&v, key, sizeof(key)), RDAPSYNC_VERSION_KEY_FIXED);
    rdapsync_version back;
    cr_assert_eq(rdapsync_version_from_key(key, sizeof(key), &back), 0);
    cr_assert_str_eq(back.origin, "");
}

Test(sinktk_version, bytes_that_are_not_a_key_are_refused)
{
    rdapsync_version v = { 1, "ab", 2 }, back;
    unsigned char key[64];
    size_t len = rdapsync_version_key(&v, key, sizeof(key));
    cr_assert_eq(rdapsync_version_from_key(key, len - 1, &back), -1, "cut short");
    cr_assert_eq(rdapsync_version_from_key(key, RDAPSYNC_VERSION_KEY_FIXED - 1, &back), -1, "too short");
    key[8 + 2] = 'c'; /* no end of origin any more */
    cr_assert_eq(rdapsync_version_from_key(key, len, &back), -1, "no end of the origin");
    cr_assert_eq(rdapsync_version_from_key(NULL, 0, &back), -1);
}
