/* The suppression list: keyed hashes only, idempotent adds, another
 * writer's adds seen, a torn last line ignored and replaced. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/suppression.h"

static char dir[] = "/tmp/rdapsync-suppress-XXXXXX";
static char path[256];
static const unsigned char KEY[] = "fedcba9876543210fedcba9876543210";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/suppressed.list", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(suppression, .init = setup, .fini = teardown);

static suppression_list *open_list(void)
{
    char err[256] = "";
    suppression_list *list = suppression_open(path, KEY, sizeof(KEY) - 1, err, sizeof(err));
    cr_assert_not_null(list, "%s", err);
    return list;
}

static void add(suppression_list *list, const char *kind, const char *normal)
{
    char err[256] = "";
    cr_assert_eq(suppression_add(list, kind, normal, err, sizeof(err)), 0, "%s", err);
}

static size_t file_lines(void)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    cr_assert_not_null(f);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

Test(suppression, holds_keyed_hashes_only_and_adds_once)
{
    suppression_list *list = open_list();
    add(list, "email", "maren@larkspur-bindery.example");
    add(list, "email", "maren@larkspur-bindery.example");
    cr_assert_eq(file_lines(), 1);
    cr_assert(suppression_contains(list, "email", "maren@larkspur-bindery.example"));
    cr_assert_not(suppression_contains(list, "handle", "maren@larkspur-bindery.example"), "the kind is part of it");
    FILE *f = fopen(path, "r");
    char line[128] = "";
    cr_assert_not_null(fgets(line, sizeof(line), f));
    fclose(f);
    cr_assert_null(strstr(line, "maren"));
    cr_assert_eq(strspn(line, "0123456789abcdef"), 64);
    suppression_close(list);
}

Test(suppression, a_reader_sees_what_another_writer_added_after_a_refresh)
{
    suppression_list *reader = open_list(), *writer = open_list();
    unsigned before = suppression_generation(reader);
    add(writer, "handle", "c20117001-example");
    cr_assert_not(suppression_contains(reader, "handle", "c20117001-example"), "not read again yet");
    suppression_refresh(reader);
    cr_assert(suppression_contains(reader, "handle", "c20117001-example"));
    cr_assert_neq(suppression_generation(reader), before, "a cache keyed on the generation must see the change");
    suppression_close(reader);
    suppression_close(writer);
}

Test(suppression, a_torn_last_line_is_ignored_and_replaced_by_the_next_add)
{
    suppression_list *list = open_list();
    add(list, "email", "a@example.net");
    FILE *f = fopen(path, "a");
    fputs("0123abcd", f); /* a write cut short */
    fclose(f);
    suppression_refresh(list);
    cr_assert_eq(suppression_count(list), 1);
    add(list, "email", "b@example.net");
    cr_assert_eq(file_lines(), 2);
    suppression_close(list);
    list = open_list();
    cr_assert_eq(suppression_count(list), 2);
    cr_assert(suppression_contains(list, "email", "a@example.net"));
    cr_assert(suppression_contains(list, "email", "b@example.net"));
    suppression_close(list);
}

Test(suppression, a_different_key_matches_nothing)
{
    char err[256] = "";
    suppression_list *list = open_list();
    add(list, "email", "a@example.net");
    suppression_close(list);
    list = suppression_open(path, (const unsigned char *)"another key of 16+ bytes", 24, err, sizeof(err));
    cr_assert_not_null(list);
    cr_assert_not(suppression_contains(list, "email", "a@example.net"));
    suppression_close(list);
}
