/* Credentials of the endpoint: which Authorization headers are let in
 * (basic with bcrypt, bearer), which hashes are bcrypt, and the settings'
 * copy. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "http_settings.h"

/* A bcrypt hash of `password` at the lowest cost, made with libxcrypt. */
static char *bcrypt_of(const char *password)
{
    char salt[64];
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    cr_assert_not_null(crypt_gensalt_rn("$2y$", 4, NULL, 0, salt, sizeof(salt)));
    const char *hash = crypt_r(password, salt, &data);
    cr_assert(hash && hash[0] == '$', "bcrypt is not available");
    return strdup(hash);
}

/* "Basic base64(user:password)", malloc'd. */
static char *basic(const char *user, const char *password)
{
    char plain[256];
    unsigned char encoded[512];
    int n = snprintf(plain, sizeof(plain), "%s:%s", user, password);
    EVP_EncodeBlock(encoded, (const unsigned char *)plain, n);
    char *header = malloc(strlen((char *)encoded) + 7);
    sprintf(header, "Basic %s", (char *)encoded);
    return header;
}

static int allows_basic(const http_settings *s, const char *user, const char *password)
{
    char *header = basic(user, password);
    int allowed = http_auth_allows(s, header);
    free(header);
    return allowed;
}

Test(auth, without_settings_every_request_is_served)
{
    http_settings none = { 0 };
    cr_assert(http_auth_allows(&none, NULL));
    cr_assert(http_auth_allows(&none, "Bearer anything"));
}

Test(auth, basic_lets_in_the_right_password_only)
{
    http_user user = { .name = "alice", .hash = bcrypt_of("correct horse") };
    http_settings s = { .users = &user, .user_count = 1 };
    cr_assert(allows_basic(&s, "alice", "correct horse"));
    cr_assert_not(allows_basic(&s, "alice", "correct horsE"));
    cr_assert_not(allows_basic(&s, "alice", ""));
    cr_assert_not(allows_basic(&s, "bob", "correct horse"), "an unknown user was let in");
    cr_assert_not(http_auth_allows(&s, NULL), "no header was let in");
    cr_assert_not(http_auth_allows(&s, "Basic !!!!"), "malformed base64 was let in");
    cr_assert_not(http_auth_allows(&s, "Basic YWxpY2U="), "a header without ':' was let in");
    cr_assert_not(http_auth_allows(&s, "Bearer correct horse"), "a bearer token was let in without one configured");
    free(user.hash);
}

Test(auth, bearer_lets_in_the_exact_token_only)
{
    char token[] = "tok-4f1d9a0c";
    http_settings s = { .bearer_token = token };
    cr_assert(http_auth_allows(&s, "Bearer tok-4f1d9a0c"));
    cr_assert(http_auth_allows(&s, "bearer tok-4f1d9a0c"), "the scheme is case-insensitive (RFC 7235)");
    cr_assert_not(http_auth_allows(&s, "Bearer tok-4f1d9a0"), "a prefix of the token was let in");
    cr_assert_not(http_auth_allows(&s, "Bearer tok-4f1d9a0cX"), "a longer token was let in");
    cr_assert_not(http_auth_allows(&s, "Bearer TOK-4F1D9A0C"));
    cr_assert_not(http_auth_allows(&s, "Bearer "));
    cr_assert_not(http_auth_allows(&s, "Bearertok-4f1d9a0c"));
    cr_assert_not(http_auth_allows(&s, NULL));
}

Test(auth, basic_and_bearer_together_accept_either)
{
    char token[] = "tok-both-1";
    http_user user = { .name = "alice", .hash = bcrypt_of("pw-both") };
    http_settings s = { .users = &user, .user_count = 1, .bearer_token = token };
    cr_assert(allows_basic(&s, "alice", "pw-both"));
    cr_assert(http_auth_allows(&s, "Bearer tok-both-1"));
    cr_assert_not(allows_basic(&s, "alice", "tok-both-1"));
    free(user.hash);
}

/* libxcrypt's bcrypt answers for both prefixes htpasswd and other tools write. */
Test(auth, basic_checks_2b_hashes_too)
{
    char salt[64];
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    cr_assert_not_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)));
    http_user user = { .name = "bob", .hash = strdup(crypt_r("pw-2b", salt, &data)) };
    cr_assert(strncmp(user.hash, "$2b$04$", 7) == 0, "%s", user.hash);
    http_settings s = { .users = &user, .user_count = 1 };
    cr_assert(allows_basic(&s, "bob", "pw-2b"));
    cr_assert_not(allows_basic(&s, "bob", "pw-2c"));
    free(user.hash);
}

Test(auth, only_bcrypt_hashes_are_accepted)
{
    char *hash = bcrypt_of("x");
    cr_assert(http_is_bcrypt(hash), "%s", hash);
    hash[2] = 'b';
    cr_assert(http_is_bcrypt(hash));
    hash[2] = 'a';
    cr_assert(http_is_bcrypt(hash));
    hash[2] = 'x';
    cr_assert_not(http_is_bcrypt(hash));
    free(hash);
    cr_assert_not(http_is_bcrypt("secret"));
    cr_assert_not(http_is_bcrypt("$6$salt$Jm6vQ7iXQ6e3M0Cz7mO2"));
    cr_assert_not(http_is_bcrypt("$2y$03$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u"), "cost 03");
    cr_assert_not(http_is_bcrypt("$2y$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2"), "59 characters");
}

Test(auth, settings_copy_is_deep)
{
    char token[] = "tok-copy-1";
    http_user user = { .name = "alice", .hash = "$2y$04$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u" };
    http_settings from = { .cert_file = "a.crt", .key_file = "a.key", .users = &user, .user_count = 1,
                           .bearer_token = token };
    http_settings to;
    cr_assert_eq(http_settings_copy(&to, &from), 0);
    cr_assert_neq(to.bearer_token, token);
    cr_assert_str_eq(to.bearer_token, token);
    cr_assert_str_eq(to.users[0].name, "alice");
    cr_assert_str_eq(to.cert_file, "a.crt");
    http_settings_free(&to);
    cr_assert_null(to.bearer_token);
}
