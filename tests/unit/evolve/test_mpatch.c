/*
 * RFC 7386 merge patches (the delta transform's emit: merge-patch): the
 * patch holds only what changed, and applying it rebuilds the document.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "mpatch.h"

static const rdapsync_json_api *J;

static void setup(void) { J = host_api_table()->json; }

TestSuite(mpatch, .init = setup);

static rdapsync_value *doc(const char *text)
{
    char err[128];
    rdapsync_value *v = J->parse(text, strlen(text), err, sizeof err);
    cr_assert_not_null(v, "%s", err);
    return v;
}

static void same(const rdapsync_value *v, const char *text)
{
    rdapsync_value *want = doc(text);
    char *got = J->dump(v, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    char *exp = J->dump(want, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    cr_assert_str_eq(got, exp);
    free(got);
    free(exp);
    J->decref(want);
}

Test(mpatch, holds_changed_and_removed_members_only_and_rebuilds_the_document)
{
    rdapsync_value *from = doc("{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[1,2],\"gone\":true}");
    rdapsync_value *to = doc("{\"a\":1,\"b\":{\"c\":2,\"d\":4},\"e\":[1,2,3],\"new\":\"x\"}");
    bool inexpressible;
    rdapsync_value *patch = mpatch_diff(J, from, to, &inexpressible);
    cr_assert_not_null(patch);
    same(patch, "{\"b\":{\"d\":4},\"e\":[1,2,3],\"gone\":null,\"new\":\"x\"}");
    rdapsync_value *rebuilt = mpatch_apply(J, J->deep_copy(from), patch);
    same(rebuilt, "{\"a\":1,\"b\":{\"c\":2,\"d\":4},\"e\":[1,2,3],\"new\":\"x\"}");
    J->decref(rebuilt);
    J->decref(patch);
    J->decref(from);
    J->decref(to);
}

Test(mpatch, a_null_member_it_would_need_cannot_be_written_as_a_patch)
{
    rdapsync_value *from = doc("{\"a\":1}");
    rdapsync_value *to = doc("{\"a\":null}");
    bool inexpressible;
    cr_assert_null(mpatch_diff(J, from, to, &inexpressible));
    cr_assert(inexpressible);
    J->decref(to);
    to = doc("{\"a\":1,\"b\":{\"c\":null}}");
    cr_assert_null(mpatch_diff(J, from, to, &inexpressible));
    cr_assert(inexpressible, "a null inside a new member would read as a removal");
    J->decref(from);
    J->decref(to);
}

Test(mpatch, equal_documents_give_an_empty_patch)
{
    rdapsync_value *from = doc("{\"a\":[1,{\"b\":2}]}");
    rdapsync_value *to = doc("{\"a\":[1,{\"b\":2}]}");
    bool inexpressible;
    rdapsync_value *patch = mpatch_diff(J, from, to, &inexpressible);
    same(patch, "{}");
    J->decref(patch);
    J->decref(from);
    J->decref(to);
}
