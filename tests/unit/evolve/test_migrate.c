/*
 * The migrate transform's logic: paths (plugins/common/docpath.c), the plan
 * built from its config (errors with the place they name, the shortest
 * path) and documents migrated along it.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "docpath.h"
#include "loader.h"
#include "mplan.h"

static const rdapsync_json_api *J;

static void setup(void) { J = host_api_table()->json; }

TestSuite(docpath);
TestSuite(mplan, .init = setup);

Test(docpath, reads_the_paths_the_redaction_records_write)
{
    docpath p;
    char err[128];
    cr_assert_eq(docpath_parse("$.entities[1].vcardArray[1]", &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.count, 4);
    cr_assert_str_eq(p.segs[0].key, "entities");
    cr_assert_eq(p.segs[1].kind, DOCPATH_INDEX);
    cr_assert_eq(p.segs[1].index, 1);
    cr_assert_str_eq(p.segs[2].key, "vcardArray");
    docpath_free(&p);
    cr_assert_eq(docpath_parse("contacts['odd key'][*].emails", &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.count, 4);
    cr_assert_str_eq(p.segs[1].key, "odd key");
    cr_assert_eq(p.segs[2].kind, DOCPATH_ANY);
    cr_assert(p.wildcard);
    docpath_free(&p);
}

Test(docpath, names_the_column_of_a_mistake)
{
    docpath p;
    char err[128];
    cr_assert_eq(docpath_parse("a..b", &p, err, sizeof err), -1);
    cr_assert_str_eq(err, "column 3: expected a member name");
    cr_assert_eq(docpath_parse("a[x]", &p, err, sizeof err), -1);
    cr_assert_str_eq(err, "column 3: expected an index, * or a quoted name after '['");
    cr_assert_eq(docpath_parse("$", &p, err, sizeof err), -1);
    cr_assert_eq(docpath_parse("", &p, err, sizeof err), -1);
}

static int build(mplan *plan, const char *target, const char *migrations, char *err, size_t size)
{
    return mplan_build(J, target, migrations, plan, err, size);
}

Test(mplan, refuses_what_validate_must_refuse_naming_the_place)
{
    mplan plan;
    char err[256];
    static const struct {
        const char *target, *migrations, *error;
    } cases[] = {
        {"1.1", "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[{\"frobnicate\":\"x\"}]}]",
         "@migrations[0].steps[0]: unknown step kind 'frobnicate'"},
        {"1.2",
         "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[]},{\"from\":\"1.1\",\"to\":\"1.2\",\"steps\":[]},"
         "{\"from\":\"1.2\",\"to\":\"1.0\",\"steps\":[]}]",
         "the migrations form a cycle"},
        {"2.0", "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[]}]", "@target: no migration leads to 2.0"},
        {"2.0",
         "[{\"from\":\"1.0\",\"to\":\"2.0\",\"steps\":[]},{\"from\":\"1.5\",\"to\":\"1.6\",\"steps\":[]}]",
         "@migrations[1]: the target 2.0 is unreachable from 1.5"},
        {"1.1", "[{\"from\":\"1\",\"to\":\"1.1\",\"steps\":[]}]", "@migrations[0].from: a version is written"},
        {"1.1", "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[{\"rename\":{\"from\":\"a\",\"to\":\"b.c\"}}]}]",
         "@migrations[0].steps[0]: rename's 'to' is a member name"},
        {"1.1", "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[{\"drop\":\"a[\"}]}]",
         "@migrations[0].steps[0]: path 'a[': column 3"},
        {"x", "[]", "@target: a version is written MAJOR.MINOR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        cr_assert_eq(build(&plan, cases[i].target, cases[i].migrations, err, sizeof err), -1, "case %zu", i);
        cr_assert(strstr(err, cases[i].error), "case %zu: %s", i, err);
    }
}

static rdapsync_value *doc(const char *text)
{
    char err[128];
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    return v;
}

static void expect(rdapsync_value *v, const char *text)
{
    rdapsync_value *want = doc(text);
    char *got = J->dump(v, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    char *exp = J->dump(want, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    cr_assert_str_eq(got, exp);
    free(got);
    free(exp);
    J->decref(want);
}

Test(mplan, takes_the_shortest_chain_and_records_it)
{
    mplan plan;
    char err[256];
    const char *m = "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[{\"drop\":\"a\"}]},"
                    "{\"from\":\"1.1\",\"to\":\"1.2\",\"steps\":[{\"drop\":\"b\"}]},"
                    "{\"from\":\"1.2\",\"to\":\"2.0\",\"steps\":[{\"drop\":\"c\"}]},"
                    "{\"from\":\"1.0\",\"to\":\"1.5\",\"steps\":[{\"set_default\":{\"path\":\"via\",\"value\":1}}]},"
                    "{\"from\":\"1.5\",\"to\":\"2.0\",\"steps\":[]}]";
    cr_assert_eq(build(&plan, "2.0", m, err, sizeof err), 0, "%s", err);
    rdapsync_value *d = doc("{\"_schemaVersion\":\"1.0\",\"a\":1,\"b\":2,\"c\":3}");
    bool migrated;
    cr_assert_eq(mplan_apply(&plan, d, NULL, &migrated, err, sizeof err), 0, "%s", err);
    cr_assert(migrated);
    expect(d, "{\"_schemaVersion\":\"2.0\",\"a\":1,\"b\":2,\"c\":3,\"via\":1,"
              "\"_migration\":{\"from\":\"1.0\",\"path\":[\"1.0\",\"1.5\",\"2.0\"]}}");
    J->decref(d);
    mplan_free(&plan);
}

Test(mplan, applies_every_step_kind)
{
    mplan plan;
    char err[256];
    const char *m = "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":["
                    "{\"rename\":{\"from\":\"source.port43\",\"to\":\"whois\"}},"
                    "{\"move\":{\"from\":\"source.whois\",\"to\":\"servers.whois.host\"}},"
                    "{\"set_default\":{\"path\":\"notes\",\"value\":[]}},"
                    "{\"set_default\":{\"path\":\"kept\",\"value\":0}},"
                    "{\"drop\":{\"path\":\"links\"}},"
                    "{\"lowercase\":\"names[*]\"},"
                    "{\"map\":{\"path\":\"status\",\"values\":{\"active\":\"ACTIVE\",\"gone\":null}}}]}]";
    cr_assert_eq(build(&plan, "1.1", m, err, sizeof err), 0, "%s", err);
    rdapsync_value *d = doc("{\"_schemaVersion\":\"1.0\",\"source\":{\"port43\":\"w.example\"},\"kept\":5,"
                            "\"links\":[1],\"names\":[\"A.Example\",\"b\"],\"status\":[\"active\",\"gone\",\"x\"]}");
    bool migrated;
    cr_assert_eq(mplan_apply(&plan, d, NULL, &migrated, err, sizeof err), 0, "%s", err);
    expect(d, "{\"_schemaVersion\":\"1.1\",\"source\":{},\"servers\":{\"whois\":{\"host\":\"w.example\"}},"
              "\"kept\":5,\"notes\":[],\"names\":[\"a.example\",\"b\"],\"status\":[\"ACTIVE\",null,\"x\"],"
              "\"_migration\":{\"from\":\"1.0\",\"path\":[\"1.0\",\"1.1\"]}}");
    J->decref(d);
    mplan_free(&plan);
}

Test(mplan, refuses_documents_it_cannot_migrate_with_the_reason)
{
    mplan plan;
    char err[256];
    cr_assert_eq(build(&plan, "1.1", "[{\"from\":\"1.0\",\"to\":\"1.1\",\"steps\":[]}]", err, sizeof err), 0);
    static const struct {
        const char *doc, *assume, *error;
    } cases[] = {
        {"{\"_schemaVersion\":\"2.0\"}", NULL, "schema version 2.0 is of a newer major than the target 1.1"},
        {"{\"_schemaVersion\":\"0.9\"}", NULL, "no migration path from schema version 0.9 to 1.1"},
        {"{\"_schemaVersion\":\"1.2\"}", NULL, "no migration path from schema version 1.2 to 1.1"},
        {"{}", NULL, "the document has no _schemaVersion"},
        {"{\"_schemaVersion\":\"one\"}", NULL, "is not MAJOR.MINOR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rdapsync_value *d = doc(cases[i].doc);
        bool migrated;
        cr_assert_eq(mplan_apply(&plan, d, cases[i].assume, &migrated, err, sizeof err), -1, "case %zu", i);
        cr_assert(strstr(err, cases[i].error), "case %zu: %s", i, err);
        J->decref(d);
    }
    rdapsync_value *d = doc("{}");
    bool migrated;
    cr_assert_eq(mplan_apply(&plan, d, "1.0", &migrated, err, sizeof err), 0, "assume gives a version: %s", err);
    cr_assert(migrated);
    J->decref(d);
    d = doc("{\"_schemaVersion\":\"1.1\",\"a\":1}");
    cr_assert_eq(mplan_apply(&plan, d, NULL, &migrated, err, sizeof err), 0);
    cr_assert(!migrated, "a document at the target is left alone");
    expect(d, "{\"_schemaVersion\":\"1.1\",\"a\":1}");
    J->decref(d);
    mplan_free(&plan);
}
