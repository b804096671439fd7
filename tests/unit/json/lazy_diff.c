#include "lazy_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/json_api.h"
#include "model/json_lazy.h"

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
    return a && b && alen == blen && memcmp(a, b, alen) == 0;
}

int lazy_diff(const char *text, size_t len, char *why, size_t why_size)
{
    const rdapsync_json_api *J = json_api_table();
    char err_tree[256], err_lazy[256];
    rdapsync_value *tree = jt_parse(text, len, err_tree, sizeof(err_tree));
    rdapsync_value *lazy = J->parse(text, len, err_lazy, sizeof(err_lazy));
    char *tree_dump = NULL, *lazy_dump = NULL, *tree_sorted = NULL, *lazy_sorted = NULL;
    size_t tree_len = 0, lazy_len = 0, tree_slen = 0, lazy_slen = 0, canon_len = 0;
    const char *canon;
    int rc = -1;

    why[0] = '\0';
    if (!tree || !lazy) {
        if (tree || lazy)
            snprintf(why, why_size, "tree parser %s, lazy %s (%s)", tree ? "accepts" : "refuses",
                     lazy ? "accepts" : "refuses", tree ? err_lazy : err_tree);
        else if (strcmp(err_tree, err_lazy) != 0)
            snprintf(why, why_size, "messages differ: \"%s\" vs \"%s\"", err_tree, err_lazy);
        else
            rc = 0;
        goto out;
    }
    tree_dump = jt_dump_string(tree, false, &tree_len);
    canon = J->validated_text(lazy, &canon_len);
    if (canon && !same(canon, canon_len, tree_dump, tree_len)) {
        snprintf(why, why_size, "validated text is not the dump");
        goto out;
    }
    /* Every other root member looked up before the tree is built: each the
     * same as the tree parser's, and the same node once the tree is built. */
    rdapsync_value *looked[64];
    size_t nlooked = 0;
    if (tree->kind == JT_OBJECT) {
        for (uint32_t m = 0; m < tree->count && nlooked < 64; m += 2) {
            const jt_member *member = &tree->u.obj.members[m];
            if (memchr(member->key, '\0', member->key_len))
                continue; /* object_get takes C strings */
            rdapsync_value *got = J->object_get(lazy, member->key);
            char *a = jt_dump_string(member->value, false, NULL), *b = got ? J->dump(got, 0, NULL) : NULL;
            int differ = !a || !b || strcmp(a, b) != 0;
            free(a);
            free(b);
            if (differ) {
                snprintf(why, why_size, "member \"%s\" looked up alone differs", member->key);
                goto out;
            }
            looked[nlooked++] = got;
        }
    }
    lazy_dump = J->dump(lazy, 0, &lazy_len);
    if (!same(lazy_dump, lazy_len, tree_dump, tree_len)) {
        snprintf(why, why_size, "dumps differ");
        goto out;
    }
    tree_sorted = jt_dump_string(tree, true, &tree_slen);
    lazy_sorted = J->dump(lazy, RDAPSYNC_DUMP_SORT_KEYS, &lazy_slen); /* builds the tree */
    if (!same(lazy_sorted, lazy_slen, tree_sorted, tree_slen) || !J->equal(lazy, tree)) {
        snprintf(why, why_size, "built trees differ");
        goto out;
    }
    for (size_t k = 0, m = 0; k < nlooked; m += 2) {
        const jt_member *member = &tree->u.obj.members[m];
        if (memchr(member->key, '\0', member->key_len))
            continue;
        if (J->object_get(lazy, member->key) != looked[k++]) {
            snprintf(why, why_size, "member \"%s\" is another node once the tree is built", member->key);
            goto out;
        }
    }
    /* Built for reading, unchanged: the same text, if any, is still offered. */
    if (J->validated_text(lazy, NULL) != canon) {
        snprintf(why, why_size, "building the tree changed the validated text");
        goto out;
    }
    if (canon && J->type(lazy) == RDAPSYNC_JSON_OBJECT) {
        J->object_set(lazy, "\x01", J->null_new());
        if (J->validated_text(lazy, NULL)) {
            snprintf(why, why_size, "an edited document still offers its text");
            goto out;
        }
    }
    rc = 0;
out:
    free(tree_dump);
    free(lazy_dump);
    free(tree_sorted);
    free(lazy_sorted);
    jt_decref(tree);
    jt_decref(lazy);
    return rc;
}
