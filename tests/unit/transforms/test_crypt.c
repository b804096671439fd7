/*
 * encrypt / decrypt: keyrings, one value sealed and opened, every kind of
 * tampering refused, paths, all-or-nothing decryption, key rotation, and
 * both plugins through the real loader. The crypto logic is compiled in.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "crypt.h"
#include "harness.h"
#include "jpath.h"

#define K1 "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define K3 "k3:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="

#define DOC                                                                                                         \
    "{\"objectClassName\":\"domain\",\"handle\":\"D1-EX\",\"ldhName\":\"a.example\",\"n\":1.5,\"entities\":["     \
    "{\"roles\":[\"registrant\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\",\"Jane Doe\"],[\"email\",{},"     \
    "\"text\",\"jane@example.com\"]]]},{\"roles\":[\"registrar\"],\"vcardArray\":[\"vcard\",[[\"fn\",{},\"text\"," \
    "\"Registrar Ltd\"]]]}]}"

static keyring *ring_of(const char *text)
{
    char err[256];
    keyring *r = keyring_parse(text, err, sizeof err);
    cr_assert_not_null(r, "keyring rejected: %s", err);
    return r;
}

static void ring_fails(const char *text, const char *expected)
{
    char err[256] = "";
    keyring *r = keyring_parse(text, err, sizeof err);
    cr_assert_null(r, "keyring accepted: %s", text);
    cr_assert(strstr(err, expected), "error '%s' does not say '%s'", err, expected);
}

static rdapsync_version version_of(int64_t ts, const char *origin, int64_t seq)
{
    rdapsync_version v = {ts, origin, seq};
    return v;
}

static rdapsync_value *seal(const keyring *r, bool zstd, const rdapsync_value *v, const crypt_binding *b)
{
    char err[512];
    crypt_seal_options o = {keyring_newest(r), zstd, 3};
    rdapsync_value *env = crypt_seal(H(), &o, v, b, err, sizeof err);
    cr_assert_not_null(env, "seal failed: %s", err);
    return env;
}

/* Opens env (must fail) and checks the reason. */
static void unseal_fails(const keyring *r, const rdapsync_value *env, const crypt_binding *b, const char *expected)
{
    char err[512] = "";
    rdapsync_value *v = crypt_unseal(H(), r, env, b, 1 << 20, err, sizeof err);
    cr_assert_null(v, "tampered envelope opened: %s", dump(env));
    cr_assert(strstr(err, expected), "error '%s' does not say '%s'", err, expected);
}

/* A copy of env with member `name` replaced by the string `value`. */
static rdapsync_value *with_member(const rdapsync_value *env, const char *name, const char *value)
{
    rdapsync_value *copy = J()->deep_copy(env);
    cr_assert_eq(J()->object_set(copy, name, J()->string_new(value, strlen(value))), 0);
    return copy;
}

/* A copy of env with one bit of the base64 member `name` flipped (the decoded bytes, re-encoded). */
static rdapsync_value *flipped(const rdapsync_value *env, const char *name)
{
    const char *text = J()->string_value(J()->object_get(env, name));
    char *t = strdup(text);
    /* Change the first character to another base64 digit: the first byte changes. */
    t[0] = t[0] == 'A' ? 'B' : 'A';
    rdapsync_value *copy = with_member(env, name, t);
    free(t);
    return copy;
}

Test(crypt_keyring, lists_keys_in_file_order_and_the_last_one_encrypts)
{
    keyring *r = ring_of("# rotation: k2 is the newest\n" K1 "\n\n  " K2 "  \n");
    cr_assert_eq(r->count, 2);
    cr_assert_str_eq(keyring_newest(r)->id, "k2");
    cr_assert_not_null(keyring_find(r, "k1"));
    cr_assert_null(keyring_find(r, "k3"));
    cr_assert_eq(keyring_find(r, "k1")->key[0], 1);
    keyring_free(r);
}

Test(crypt_keyring, refuses_bad_lines_naming_the_line_and_never_the_key)
{
    ring_fails("", "holds no key");
    ring_fails("# only a comment\n", "holds no key");
    ring_fails(K1 "\nnocolon\n", "keyring line 2: expected ID:BASE64");
    ring_fails("k1:AQEB\n", "keyring line 1: key k1 is not 32 bytes");
    ring_fails("k 1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", "may contain only");
    ring_fails(":AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n", "1 to 64 characters");
    ring_fails(K1 "\n" K2 "\nk1:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n", "line 3: key id k1 is listed twice");
    /* Not canonical base64: a character outside the alphabet. */
    ring_fails("k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ*=\n", "not 32 bytes");
}

Test(crypt_seal, round_trip_gives_back_the_same_bytes_with_and_without_zstd)
{
    keyring *r = ring_of(K1);
    rdapsync_value *doc = json(DOC);
    rdapsync_version v = version_of(1700000000000, "origin-a", 7);
    crypt_binding b = {"D1-EX", 5, &v, "$"};
    char *before = dump(doc);

    for (int zstd = 0; zstd < 2; zstd++) {
        char err[512];
        rdapsync_value *env = seal(r, zstd, doc, &b);
        cr_assert_str_eq(str_at(env, "enc"), "aes-256-gcm");
        cr_assert_str_eq(str_at(env, "kid"), "k1");
        cr_assert_eq(at(env, "zip") != NULL, zstd == 1);
        cr_assert(!contains(env, "jane@example.com"), "clear text in the envelope");
        rdapsync_value *back = crypt_unseal(H(), r, env, &b, 1 << 20, err, sizeof err);
        cr_assert_not_null(back, "unseal failed: %s", err);
        char *after = dump(back);
        cr_assert_str_eq(after, before);
        free(after);
        J()->decref(back);
        J()->decref(env);
    }
    free(before);
    J()->decref(doc);
    keyring_free(r);
}

Test(crypt_seal, every_value_gets_a_fresh_iv)
{
    keyring *r = ring_of(K1);
    rdapsync_value *doc = json("\"same value\"");
    rdapsync_version v = version_of(1, NULL, 1);
    crypt_binding b = {"k", 1, &v, "$.x"};
    rdapsync_value *a = seal(r, false, doc, &b), *c = seal(r, false, doc, &b);

    cr_assert_str_neq(str_at(a, "iv"), str_at(c, "iv"));
    cr_assert_str_neq(str_at(a, "data"), str_at(c, "data"));
    cr_assert_eq(strlen(str_at(a, "iv")), 16, "12 bytes of IV are 16 base64 characters");
    J()->decref(a);
    J()->decref(c);
    J()->decref(doc);
    keyring_free(r);
}

Test(crypt_seal, tampering_with_any_part_or_moving_the_payload_is_refused)
{
    keyring *r = ring_of(K1 "\n" K2);
    keyring *old_only = ring_of(K1);
    rdapsync_value *doc = json(DOC);
    rdapsync_version v = version_of(1700000000000, "o", 7);
    crypt_binding b = {"D1-EX", 5, &v, "$"};
    rdapsync_value *env = seal(r, true, doc, &b); /* sealed with k2 */
    rdapsync_value *t;

    t = flipped(env, "data");
    unseal_fails(r, t, &b, "authentication failed");
    J()->decref(t);
    t = flipped(env, "tag");
    unseal_fails(r, t, &b, "authentication failed");
    J()->decref(t);
    t = flipped(env, "iv");
    unseal_fails(r, t, &b, "authentication failed");
    J()->decref(t);
    /* Another key of the ring: the key differs and the kid is bound. */
    t = with_member(env, "kid", "k1");
    unseal_fails(r, t, &b, "authentication failed with key k1");
    J()->decref(t);
    t = with_member(env, "kid", "k9");
    unseal_fails(r, t, &b, "unknown key id \"k9\"");
    J()->decref(t);
    unseal_fails(old_only, env, &b, "unknown key id \"k2\"");
    t = J()->deep_copy(env);
    J()->object_del(t, "zip");
    unseal_fails(r, t, &b, "authentication failed");
    J()->decref(t);
    t = with_member(env, "enc", "aes-128-cbc");
    unseal_fails(r, t, &b, "is not aes-256-gcm");
    J()->decref(t);
    t = with_member(env, "iv", "not base64!");
    unseal_fails(r, t, &b, "\"iv\" is not base64");
    J()->decref(t);

    /* Moved: to another record key, version or path. */
    crypt_binding other = b;
    other.key = "D2-EX";
    other.key_len = 5;
    unseal_fails(r, env, &other, "authentication failed");
    rdapsync_version newer = version_of(1700000000001, "o", 7);
    other = b;
    other.version = &newer;
    unseal_fails(r, env, &other, "authentication failed");
    other = b;
    other.path = "$.entities[0]";
    unseal_fails(r, env, &other, "$.entities[0]: authentication failed");
    other = b;
    other.key = NULL;
    other.key_len = 0;
    unseal_fails(r, env, &other, "authentication failed");

    J()->decref(env);
    J()->decref(doc);
    keyring_free(r);
    keyring_free(old_only);
}

Test(crypt_seal, a_compressed_payload_larger_than_max_size_is_refused)
{
    keyring *r = ring_of(K1);
    char big[4096];
    memset(big, 'a', sizeof big - 2);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    rdapsync_value *doc = json(big);
    crypt_binding b = {NULL, 0, NULL, "$"};
    rdapsync_value *env = seal(r, true, doc, &b);
    char err[512] = "";

    cr_assert_null(crypt_unseal(H(), r, env, &b, 1000, err, sizeof err));
    cr_assert(strstr(err, "larger than 1000 bytes"), "%s", err);
    J()->decref(env);
    J()->decref(doc);
    keyring_free(r);
}

Test(crypt_paths, jpath_match_takes_any_index_for_a_star)
{
    cr_assert_eq(jpath_match("$.entities[*].vcardArray", "$.entities[12].vcardArray"), JPATH_EQUAL);
    cr_assert_eq(jpath_match("$.entities[*].vcardArray", "$.entities[3]"), JPATH_ABOVE);
    cr_assert_eq(jpath_match("$.entities[*].vcardArray", "$.entities"), JPATH_ABOVE);
    cr_assert_eq(jpath_match("$.entities[*].vcardArray", "$.entitiesX"), JPATH_UNRELATED);
    cr_assert_eq(jpath_match("$.entities[1].handle", "$.entities[2].handle"), JPATH_UNRELATED);
    cr_assert_eq(jpath_match("$.handle", "$.handleX"), JPATH_UNRELATED);
    cr_assert_eq(jpath_match("$['a.b']", "$['a.b']"), JPATH_EQUAL);
}

Test(crypt_paths, only_the_chosen_values_are_encrypted_and_decrypt_restores_the_document)
{
    keyring *r = ring_of(K1);
    rdapsync_value *doc = json(DOC);
    char *before = dump(doc);
    char *items[] = {"$.entities[*].vcardArray", "$.handle", "$.absent"};
    crypt_paths paths = {items, 3};
    crypt_seal_options o = {keyring_newest(r), false, 3};
    rdapsync_version v = version_of(5, NULL, 1);
    crypt_binding b = {"D1-EX", 5, &v, "$"};
    size_t n;
    char err[512];

    cr_assert_eq(crypt_paths_check(&paths, err, sizeof err), 0);
    cr_assert_eq(crypt_encrypt_document(H(), &o, &paths, &doc, &b, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 3, "two vcardArrays and the handle");
    cr_assert_str_eq(str_at(doc, "ldhName"), "a.example");
    cr_assert_str_eq(str_at(doc, "entities[0].roles[0]"), "registrant");
    cr_assert_str_eq(str_at(doc, "entities[1].vcardArray.enc"), "aes-256-gcm");
    cr_assert_str_eq(str_at(doc, "handle.kid"), "k1");
    cr_assert(!contains(doc, "Jane Doe"));

    /* Swapping the two entities' payloads moves them to another path. */
    rdapsync_value *swapped = J()->deep_copy(doc);
    rdapsync_value *e0 = J()->incref(at(swapped, "entities[0].vcardArray"));
    rdapsync_value *e1 = J()->incref(at(swapped, "entities[1].vcardArray"));
    J()->object_set(at(swapped, "entities[0]"), "vcardArray", e1);
    J()->object_set(at(swapped, "entities[1]"), "vcardArray", e0);
    char *swapped_before = dump(swapped);
    cr_assert_neq(crypt_decrypt_document(H(), r, 1 << 20, 64, &swapped, &b, &n, err, sizeof err), 0);
    cr_assert(strstr(err, "$.entities[0].vcardArray: authentication failed"), "%s", err);
    char *swapped_after = dump(swapped);
    cr_assert_str_eq(swapped_after, swapped_before, "a refused record keeps its document exactly");
    free(swapped_before);
    free(swapped_after);
    J()->decref(swapped);

    cr_assert_eq(crypt_decrypt_document(H(), r, 1 << 20, 64, &doc, &b, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, 3);
    char *after = dump(doc);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
    J()->decref(doc);
    keyring_free(r);
}

Test(crypt_paths, a_path_not_starting_with_dollar_is_refused)
{
    char *items[] = {"entities"};
    crypt_paths paths = {items, 1};
    char err[256];

    cr_assert_neq(crypt_paths_check(&paths, err, sizeof err), 0);
    cr_assert(strstr(err, "must start with $"), "%s", err);
}

Test(crypt_rotation, old_payloads_still_open_after_a_new_key_is_added)
{
    keyring *before = ring_of(K1), *after = ring_of(K1 "\n" K2 "\n");
    rdapsync_value *doc = json(DOC);
    rdapsync_version v = version_of(9, NULL, 1);
    crypt_binding b = {"D1-EX", 5, &v, "$"};
    rdapsync_value *old_env = seal(before, false, doc, &b), *new_env = seal(after, false, doc, &b);
    char err[512];

    cr_assert_str_eq(str_at(old_env, "kid"), "k1");
    cr_assert_str_eq(str_at(new_env, "kid"), "k2");
    rdapsync_value *a = crypt_unseal(H(), after, old_env, &b, 1 << 20, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    rdapsync_value *c = crypt_unseal(H(), after, new_env, &b, 1 << 20, err, sizeof err);
    cr_assert_not_null(c, "%s", err);
    cr_assert(J()->equal(a, doc) && J()->equal(c, doc));
    J()->decref(a);
    J()->decref(c);
    J()->decref(old_env);
    J()->decref(new_env);
    J()->decref(doc);
    keyring_free(before);
    keyring_free(after);
}

Test(crypt_plugins, encrypt_then_decrypt_through_the_loader_and_refusals_stay_encrypted)
{
    plugin_instance enc, dec, dec_other;
    rdapsync_batch *batch;
    const rdapsync_record *r;

    cr_assert_eq(plugin_start(&enc, "encrypt", "{keyring: \"" K1 "\", compress: zstd}"), RDAPSYNC_OK, "%s", enc.err);
    cr_assert_eq(plugin_start(&dec, "decrypt", "{keyring: \"" K1 "\"}"), RDAPSYNC_OK, "%s", dec.err);
    cr_assert_eq(plugin_start(&dec_other, "decrypt", "{keyring: \"" K3 "\"}"), RDAPSYNC_OK, "%s", dec_other.err);

    batch = one_record("D1-EX", json(DOC), 1700000000000);
    r = H()->batch_get(batch, 0);
    char *before = dump(r->value);
    cr_assert_eq(plugin_transform(&enc, batch), RDAPSYNC_OK, "%s", enc.err);
    cr_assert_str_eq(str_at(r->value, "zip"), "zstd");
    char *sealed = dump(r->value);

    /* A keyring without k1: an error naming the record key, the document still sealed. */
    cr_assert_eq(plugin_transform(&dec_other, batch), RDAPSYNC_ERROR);
    cr_assert(strstr(dec_other.err, "decrypt: key D1-EX: $: unknown key id \"k1\""), "%s", dec_other.err);
    char *still = dump(r->value);
    cr_assert_str_eq(still, sealed);

    cr_assert_eq(plugin_transform(&dec, batch), RDAPSYNC_OK, "%s", dec.err);
    char *after = dump(r->value);
    cr_assert_str_eq(after, before);

    free(before);
    free(sealed);
    free(still);
    free(after);
    batch_free(batch);
    plugin_stop(&enc);
    plugin_stop(&dec);
    plugin_stop(&dec_other);
}

Test(crypt_plugins, a_bad_keyring_fails_open_with_its_line)
{
    plugin_instance enc;

    cr_assert_eq(plugin_start(&enc, "encrypt", "{keyring: \"k1:short\"}"), RDAPSYNC_ERROR);
    cr_assert(strstr(enc.err, "keyring line 1"), "%s", enc.err);
    plugin_stop(&enc);
}
