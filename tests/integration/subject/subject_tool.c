/*
 * The subject and retention calls of every sink of a configuration, through
 * host/runtime/sink_access (what `rdapsync erase|access|retention` build on),
 * for the tests of each sink:
 *
 *   subject_tool CONFIG find SUBJECT           one line per hit: pipeline, target, where, key, document (TSV)
 *   subject_tool CONFIG erase SUBJECT [redact] "changed N"
 *   subject_tool CONFIG purge NOW_MS [redact]  "purged N"
 *
 * Every task index of every pipeline, its sink and its dead-letter sink.
 * "redact" rewrites documents instead of deleting them: every string that
 * contains the subject's value (without ASCII case) becomes "REDACTED", and
 * a retention pass drops rdapsync.retention_until; a stand-in for the
 * pipeline's policy, which is the host's.
 * Exit 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/diag.h"
#include "config/config.h"
#include "loader/loader.h"
#include "runtime/sink_access.h"

static const rdapsync_host *H;
static const char *current_pipeline, *current_target;

static int print_hit(void *arg, const rdapsync_subject_hit *hit)
{
    (void)arg;
    printf("%s\t%s\t%s\t%.*s\t%.*s\n", current_pipeline, current_target, hit->where, hit->key ? (int)hit->key_len : 0,
           hit->key ? hit->key : "", (int)hit->document_len, hit->document);
    return 0;
}

static rdapsync_value *redact_walk(rdapsync_value *v, const char *needle)
{
    const rdapsync_json_api *j = H->json;
    if (j->type(v) == RDAPSYNC_JSON_STRING) {
        const char *s = j->string_value(v);
        size_t n = strlen(needle);
        for (const char *p = s; *p; p++)
            if (strncasecmp(p, needle, n) == 0)
                return j->string_new("REDACTED", 8);
        return NULL;
    }
    if (j->type(v) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0; i < j->array_size(v); i++) {
            rdapsync_value *r = redact_walk(j->array_get(v, i), needle);
            if (r)
                j->array_set(v, i, r);
        }
    } else if (j->type(v) == RDAPSYNC_JSON_OBJECT) {
        for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it)) {
            rdapsync_value *r = redact_walk(j->object_iter_value(it), needle);
            if (r)
                j->object_set(v, j->object_iter_key(it), r);
        }
    }
    return NULL;
}

/* arg: the subject's value (erasure) or NULL (retention). */
static int rewrite(void *arg, const char *document, size_t len, char **out, size_t *out_len)
{
    char err[256];
    rdapsync_value *doc = H->json->parse(document, len, err, sizeof(err));
    if (!doc)
        return -1;
    if (arg) {
        redact_walk(doc, arg);
    } else {
        rdapsync_value *meta = H->json->object_get(doc, "rdapsync");
        if (meta)
            H->json->object_del(meta, "retention_until");
    }
    *out = H->json->dump(doc, 0, out_len);
    H->json->decref(doc);
    return *out ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: subject_tool CONFIG find|erase|purge SUBJECT|NOW_MS [redact]\n");
        return 1;
    }
    H = host_api_table();
    const char *op = argv[2];
    bool redact = argc > 4 && strcmp(argv[4], "redact") == 0;
    rdapsync_subject subject = {0};
    char err[1024], *text = strdup(argv[3]);
    int64_t now_ms = strtoll(argv[3], NULL, 10);
    if (strcmp(op, "purge") != 0 && sink_access_parse_subject(text, &subject, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        free(text);
        return 1;
    }
    plugin_registry *registry = registry_new(NULL, 0);
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = config_load(argv[1], registry, &diags);
    diag_print(&diags, stderr);
    diag_list_free(&diags);
    int rc = config ? 0 : 1;
    uint64_t total = 0;
    for (size_t p = 0; config && rc == 0 && p < config->pipeline_count; p++) {
        const pipeline_config *pc = &config->pipelines[p];
        for (int target = 0; rc == 0 && target < 2; target++) {
            if (!sink_access_block(pc, (sink_access_target)target))
                continue;
            for (int task = 0; rc == 0 && task < (pc->tasks > 0 ? pc->tasks : 1); task++) {
                sink_access access;
                current_pipeline = pc->name;
                current_target = target ? "dead-letter" : "sink";
                rdapsync_status st =
                    sink_access_open(&access, config, pc, (sink_access_target)target, task, err, sizeof(err));
                uint64_t changed = 0;
                if (st == RDAPSYNC_OK && strcmp(op, "find") == 0)
                    st = sink_access_find(&access, &subject, print_hit, NULL, err, sizeof(err));
                else if (st == RDAPSYNC_OK && strcmp(op, "erase") == 0)
                    st = sink_access_erase(&access, &subject, redact ? rewrite : NULL, (void *)subject.value,
                                           &changed, err, sizeof(err));
                else if (st == RDAPSYNC_OK)
                    st = sink_access_purge(&access, now_ms, redact ? rewrite : NULL, NULL, &changed, err,
                                           sizeof(err));
                total += changed;
                if (st != RDAPSYNC_OK) {
                    fprintf(stderr, "%s %s task %d: %s\n", pc->name, current_target, task, err);
                    rc = 1;
                }
                sink_access_close(&access);
            }
        }
    }
    if (rc == 0 && strcmp(op, "find") != 0)
        printf("%s %llu\n", strcmp(op, "erase") == 0 ? "changed" : "purged", (unsigned long long)total);
    config_free(config);
    registry_free(registry);
    free(text);
    return rc;
}
