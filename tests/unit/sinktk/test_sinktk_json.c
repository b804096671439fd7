/* A key written as a JSON string by the toolkit is the host's own text. */
#include <criterion/criterion.h>
#include <string.h>

#include <rdapsync/sinktk.h>

#include "loader.h"

typedef struct text {
    char data[2048];
    size_t len;
    int calls_left; /* abort when it reaches 0; -1 never */
} text;

static int append(const char *bytes, size_t len, void *opaque)
{
    text *t = opaque;
    if (t->calls_left == 0)
        return -1;
    if (t->calls_left > 0)
        t->calls_left--;
    cr_assert_leq(t->len + len, sizeof(t->data));
    memcpy(t->data + t->len, bytes, len);
    t->len += len;
    return 0;
}

Test(sinktk_json, a_key_is_written_exactly_as_the_host_dumps_it)
{
    const rdapsync_json_api *json = host_api_table()->json;
    char bytes[160];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        bytes[n++] = (char)c;
    memcpy(bytes + n, "\xc3\xa9\xf0\x9f\x98\x80 end", 10);
    n += 10;

    rdapsync_value *v = json->string_new(bytes, n);
    cr_assert_not_null(v);
    size_t expected_len;
    char *expected = json->dump(v, 0, &expected_len);
    text t = { .calls_left = -1 };
    cr_assert_eq(rdapsync_sinktk_json_string(host_api_table(), bytes, n, append, &t), 0);
    cr_assert_eq(t.len, expected_len);
    cr_assert_eq(memcmp(t.data, expected, expected_len), 0, "%.*s", (int)t.len, t.data);
    host_api_table()->free(expected);
    json->decref(v);
}

Test(sinktk_json, an_empty_key_is_two_quotes)
{
    text t = { .calls_left = -1 };
    cr_assert_eq(rdapsync_sinktk_json_string(host_api_table(), "", 0, append, &t), 0);
    cr_assert_eq(t.len, 2);
    cr_assert_eq(memcmp(t.data, "\"\"", 2), 0);
}

Test(sinktk_json, a_callback_that_aborts_stops_the_text)
{
    text t = { .calls_left = 0 };
    cr_assert_eq(rdapsync_sinktk_json_string(host_api_table(), "a\"b\nc", 5, append, &t), -1);
    cr_assert_eq(t.len, 0);
}

Test(sinktk_json, bytes_that_are_not_utf8_are_refused)
{
    text t = { .calls_left = -1 };
    cr_assert_eq(rdapsync_sinktk_json_string(host_api_table(), "a\xff", 2, append, &t), -1);
    cr_assert_eq(t.len, 0, "nothing written");
}
