/*
 * libFuzzer target: any bytes through the host's parser, then the redact
 * logic under the shipped gdpr-enterprise policy, on the raw document and
 * on its normalized form. Besides crashes and sanitizer reports, a finding
 * is any email property of a jCard (["vcard", [...]] anywhere) that still
 * holds an address after a successful redaction, or a unified contact whose
 * emails do: the policy replaces every one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_api.h"
#include "policy.h"
#include "redact_doc.h"
#include "unified.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static policy *enterprise;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    enterprise = policy_load("gdpr-enterprise", RDAPSYNC_SOURCE_DIR "/config/policies", NULL, err, sizeof err);
    if (!enterprise) {
        fprintf(stderr, "fuzz_redact: %s\n", err);
        abort();
    }
    return 0;
}

static bool leaked(const char *s)
{
    return s && *s && strncasecmp(s, "redacted", 8) != 0 && strchr(s, '@');
}

/* Walks everything; aborts on an email property of a jCard (["vcard", [...]],
 * wherever it is) that kept an address, and with `unified` on an email of a
 * unified contact list. Depth is bounded by the parser (512). */
static void check(const rdapsync_json_api *j, rdapsync_value *v, bool unified, bool in_emails)
{
    if (j->type(v) == RDAPSYNC_JSON_ARRAY) {
        size_t n = j->array_size(v);
        const char *tag = j->string_value(j->array_get(v, 0));
        if (tag && strcmp(tag, "vcard") == 0) {
            rdapsync_value *list = j->array_get(v, 1);
            for (size_t i = 0, m = j->array_size(list); i < m; i++) {
                rdapsync_value *prop = j->array_get(list, i);
                const char *name = j->string_value(j->array_get(prop, 0));
                if (!name || strcasecmp(name, "email") != 0)
                    continue;
                for (size_t k = 3; k < j->array_size(prop); k++)
                    if (leaked(j->string_value(j->array_get(prop, k))))
                        abort();
            }
        }
        for (size_t i = 0; i < n; i++) {
            rdapsync_value *item = j->array_get(v, i);
            if (in_emails && leaked(j->string_value(item)))
                abort();
            check(j, item, unified, false);
        }
    } else if (j->type(v) == RDAPSYNC_JSON_OBJECT) {
        for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it))
            check(j, j->object_iter_value(it), unified, unified && strcmp(j->object_iter_key(it), "emails") == 0);
    }
}

static void redact_and_check(const rdapsync_json_api *j, rdapsync_value *doc, bool unified)
{
    char err[512], until[40];
    redact_result result;

    if (redact_document(j, enterprise, doc, 64, &result, err, sizeof err) != 0) {
        if (err[0] != '$') {
            fprintf(stderr, "error without a JSON path: %s\n", err);
            abort();
        }
        return;
    }
    if (redact_retention_until(enterprise, result.classification, 1771061445000LL, until, sizeof until))
        redact_annotate(j, doc, enterprise, &result, until);
    check(j, doc, unified, false);
    free(j->dump(doc, 0, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const rdapsync_json_api *j = json_api_table();
    char err[512];
    rdapsync_value *doc = j->parse((const char *)data, size, err, sizeof err);
    unified_options options = {.keep_raw = true, .max_depth = 32, .max_string = 4096};
    rdapsync_value *unified;

    if (!doc)
        return 0;
    unified = unified_build(j, doc, &options, NULL, err, sizeof err);
    redact_and_check(j, doc, false);
    if (unified) {
        redact_and_check(j, unified, true);
        j->decref(unified);
    }
    j->decref(doc);
    return 0;
}
