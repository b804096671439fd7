/* The audit trail: chaining, resuming, tampering of each kind, signatures,
 * concurrent writers, keyed subject hashes. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/audit_log.h"
#include "base/audit_verify.h"

static char dir[] = "/tmp/rdapsync-audit-XXXXXX";
static char trail[256];
static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(trail, sizeof(trail), "%s/audit.log", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(audit, .init = setup, .fini = teardown);

static audit_log *open_trail(const char *sign_key)
{
    char err[256] = "";
    audit_log *log = audit_log_open(trail, KEY, sizeof(KEY) - 1, sign_key, err, sizeof(err));
    cr_assert_not_null(log, "%s", err);
    return log;
}

static void append(audit_log *log, int i)
{
    char err[256] = "";
    json_t *fields = json_pack("{s:i, s:s}", "n", i, "note", "quote \" and ,\"hash\":\" inside");
    cr_assert_eq(audit_log_append(log, "test", fields, err, sizeof(err)), 0, "%s", err);
    json_decref(fields);
}

static void write_lines(int n, const char *sign_key)
{
    audit_log *log = open_trail(sign_key);
    for (int i = 0; i < n; i++)
        append(log, i);
    audit_log_close(log);
}

/* The file's lines, as an array of malloc'd strings (newline kept). */
static size_t read_lines(char **lines, size_t max)
{
    FILE *f = fopen(trail, "r");
    size_t n = 0, cap = 0;
    char *line = NULL;
    cr_assert_not_null(f);
    while (n < max && getline(&line, &cap, f) > 0) {
        lines[n++] = line;
        line = NULL;
        cap = 0;
    }
    free(line);
    fclose(f);
    return n;
}

static void write_back(char **lines, size_t n)
{
    FILE *f = fopen(trail, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < n; i++) {
        fputs(lines[i], f);
        free(lines[i]);
    }
    fclose(f);
}

static audit_verdict verify(audit_key *key, int expected_rc)
{
    audit_verdict v;
    int rc = audit_verify_file(trail, key, &v);
    cr_assert_eq(rc, expected_rc, "rc %d, line %lld: %s", rc, (long long)v.bad_line, v.reason);
    return v;
}

Test(audit, an_untouched_trail_verifies_with_every_line_chained)
{
    write_lines(5, NULL);
    audit_verdict v = verify(NULL, 0);
    cr_assert_eq(v.lines, 5);
    cr_assert_eq(v.bad_line, 0);
}

Test(audit, a_reopened_trail_resumes_the_chain_from_its_last_line)
{
    write_lines(3, NULL);
    write_lines(2, NULL);
    audit_verdict v = verify(NULL, 0);
    cr_assert_eq(v.lines, 5);
}

Test(audit, an_edited_line_is_named)
{
    char *lines[16];
    write_lines(5, NULL);
    size_t n = read_lines(lines, 16);
    char *at = strstr(lines[2], "\"n\":2");
    cr_assert_not_null(at);
    at[4] = '7';
    write_back(lines, n);
    audit_verdict v = verify(NULL, 1);
    cr_assert_eq(v.bad_line, 3);
    cr_assert_not_null(strstr(v.reason, "edited"), "%s", v.reason);
}

Test(audit, a_deleted_line_is_named_at_the_line_that_follows_it)
{
    char *lines[16];
    write_lines(5, NULL);
    size_t n = read_lines(lines, 16);
    free(lines[1]);
    memmove(lines + 1, lines + 2, (n - 2) * sizeof(char *));
    write_back(lines, n - 1);
    audit_verdict v = verify(NULL, 1);
    cr_assert_eq(v.bad_line, 2);
    cr_assert_not_null(strstr(v.reason, "deleted"), "%s", v.reason);
}

Test(audit, an_inserted_line_is_named)
{
    char *lines[16];
    write_lines(4, NULL);
    size_t n = read_lines(lines, 16);
    memmove(lines + 3, lines + 2, (n - 2) * sizeof(char *));
    lines[2] = strdup(lines[1]); /* a well-formed line, copied */
    write_back(lines, n + 1);
    audit_verdict v = verify(NULL, 1);
    cr_assert_eq(v.bad_line, 3);
}

Test(audit, reordered_lines_are_named)
{
    char *lines[16];
    write_lines(5, NULL);
    size_t n = read_lines(lines, 16);
    char *swap = lines[3];
    lines[3] = lines[2];
    lines[2] = swap;
    write_back(lines, n);
    audit_verdict v = verify(NULL, 1);
    cr_assert_eq(v.bad_line, 3);
}

Test(audit, a_torn_last_line_fails_verify_and_the_next_append_removes_it)
{
    write_lines(3, NULL);
    FILE *f = fopen(trail, "a");
    fputs("{\"seq\":4,\"time\":\"2026", f);
    fclose(f);
    audit_verdict v = verify(NULL, 1);
    cr_assert_eq(v.bad_line, 4);
    cr_assert_not_null(strstr(v.reason, "incomplete"));
    write_lines(1, NULL);
    v = verify(NULL, 0);
    cr_assert_eq(v.lines, 4);
}

Test(audit, a_writer_refuses_to_chain_onto_a_last_line_that_is_not_a_trail_line)
{
    char err[256] = "";
    write_lines(2, NULL);
    FILE *f = fopen(trail, "a");
    fputs("not json\n", f);
    fclose(f);
    audit_log *log = open_trail(NULL);
    cr_assert_eq(audit_log_append(log, "test", NULL, err, sizeof(err)), -1);
    cr_assert_not_null(strstr(err, "not a trail line"), "%s", err);
    audit_log_close(log);
}

/* An Ed25519 key pair written as PEM files under dir. */
static void make_keys(const char *tag, char *priv, char *pub, size_t size)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    cr_assert(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1);
    snprintf(priv, size, "%s/%s.key", dir, tag);
    snprintf(pub, size, "%s/%s.pub", dir, tag);
    FILE *f = fopen(priv, "w");
    cr_assert(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    f = fopen(pub, "w");
    cr_assert(f && PEM_write_PUBKEY(f, key) == 1);
    fclose(f);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
}

static audit_key *public_key(const char *pub)
{
    char err[256] = "";
    audit_key *key = audit_key_load(pub, false, err, sizeof(err));
    cr_assert_not_null(key, "%s", err);
    return key;
}

Test(audit, signed_lines_verify_with_the_public_key_and_fail_with_another)
{
    char priv[300], pub[300], other_priv[300], other_pub[300];
    make_keys("signer", priv, pub, sizeof(priv));
    make_keys("other", other_priv, other_pub, sizeof(other_priv));
    write_lines(3, priv);
    audit_key *good = public_key(pub), *bad = public_key(other_pub);
    audit_verdict v = verify(good, 0);
    cr_assert_eq(v.signed_lines, 3);
    v = verify(bad, 1);
    cr_assert_eq(v.bad_line, 1);
    cr_assert_not_null(strstr(v.reason, "signature"));
    audit_key_free(good);
    audit_key_free(bad);
}

Test(audit, an_unsigned_line_fails_when_a_public_key_is_given)
{
    char priv[300], pub[300];
    make_keys("signer", priv, pub, sizeof(priv));
    write_lines(2, priv);
    write_lines(1, NULL);
    audit_key *key = public_key(pub);
    audit_verdict v = verify(key, 1);
    cr_assert_eq(v.bad_line, 3);
    cr_assert_not_null(strstr(v.reason, "no signature"));
    audit_key_free(key);
}

Test(audit, a_signing_key_that_is_not_ed25519_is_refused)
{
    char path[300], err[256] = "";
    snprintf(path, sizeof(path), "%s/rsa.key", dir);
    EVP_PKEY *key = EVP_RSA_gen(2048);
    FILE *f = fopen(path, "w");
    cr_assert(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    EVP_PKEY_free(key);
    cr_assert_null(audit_log_open(trail, KEY, sizeof(KEY) - 1, path, err, sizeof(err)));
    cr_assert_not_null(strstr(err, "not an Ed25519 key"), "%s", err);
}

static void *writer(void *arg)
{
    audit_log *log = arg;
    for (int i = 0; i < 50; i++)
        append(log, i);
    return NULL;
}

Test(audit, concurrent_threads_and_a_second_writer_on_the_same_file_keep_one_chain)
{
    audit_log *a = open_trail(NULL), *b = open_trail(NULL);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, writer, i % 2 ? b : a), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    audit_log_close(a);
    audit_log_close(b);
    audit_verdict v = verify(NULL, 0);
    cr_assert_eq(v.lines, 200);
}

Test(audit, subjects_are_written_as_hmac_sha256)
{
    char out[AUDIT_HASH_HEX];
    /* RFC 4231, test case 2 */
    cr_assert_eq(audit_keyed_hash((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", out), 0);
    cr_assert_str_eq(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
