/*
 * The redact transform: personal data out of RDAP records by a policy
 * (GDPR / CCPA), each redaction recorded as RFC 9537 says, each record
 * classified with a retention deadline (docs/policies.md,
 * docs/plugins/transform-redact.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rdapsync/rdapsync.h>

#include "policy.h"
#include "redact_doc.h"

#ifndef RDAPSYNC_POLICY_INSTALL_DIR
#define RDAPSYNC_POLICY_INSTALL_DIR NULL
#endif
#define DEFAULT_POLICY_DIR "config/policies"

static const rdapsync_host *H;

enum error_value { ERROR_VALUE_CLEAR = 0, ERROR_VALUE_KEEP = 1 };

struct config {
    char *policy;
    char *policy_dir;
    int error_value;
    bool headers;
    bool annotate;
    int64_t max_depth;
};

static const char *const error_values[] = {"clear", "keep", NULL};

static const rdapsync_option options[] = {
    {"policy", RDAPSYNC_OPT_STRING, RDAPSYNC_OPT_REQUIRED, NULL, 0, 0, NULL, offsetof(struct config, policy),
     "policy name (gdpr-enterprise, gdpr-standard, ccpa-basic, or a file NAME.yaml in policy_dir) or a path to a "
     "policy file"},
    {"policy_dir", RDAPSYNC_OPT_STRING, 0, DEFAULT_POLICY_DIR, 0, 0, NULL, offsetof(struct config, policy_dir),
     "where policy names are looked up; the default also falls back to the installed policies"},
    {"error_value", RDAPSYNC_OPT_ENUM, 0, "clear", 0, 0, error_values, offsetof(struct config, error_value),
     "a record that cannot be redacted goes to the dead-letter sink without its document (clear) or with it "
     "(keep: the unredacted input leaves the pipeline)"},
    {"headers", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, offsetof(struct config, headers),
     "add the headers rdapsync.classification and rdapsync.retention_until"},
    {"annotate", RDAPSYNC_OPT_BOOL, 0, "true", 0, 0, NULL, offsetof(struct config, annotate),
     "write classification and retention into the document (rdapsync member, or a notice in raw RDAP)"},
    {"max_depth", RDAPSYNC_OPT_INT, 0, "64", 4, 512, NULL, offsetof(struct config, max_depth),
     "deepest nesting walked; deeper records are errors (personal data must not hide below the walk)"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct instance {
    rdapsync_ctx *ctx;
    const struct config *config;
    policy *policy;
} instance;

static rdapsync_status redact_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    const struct config *c = config;
    const char *fallback =
        c->policy_dir && strcmp(c->policy_dir, DEFAULT_POLICY_DIR) == 0 ? RDAPSYNC_POLICY_INSTALL_DIR : NULL;
    instance *s = calloc(1, sizeof *s);

    if (!s)
        return RDAPSYNC_RETRY;
    s->ctx = ctx;
    s->config = c;
    s->policy = policy_load(c->policy, c->policy_dir, fallback, err, err_size);
    if (!s->policy) {
        free(s);
        return RDAPSYNC_ERROR;
    }
    H->log(ctx, RDAPSYNC_LOG_INFO, "redaction policy %s from %s (%zu rules)", s->policy->name, s->policy->path,
           s->policy->rule_count);
    *state = s;
    return RDAPSYNC_OK;
}

static void redact_close(void *state)
{
    instance *s = state;

    if (!s)
        return;
    policy_free(s->policy);
    free(s);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rdapsync_status redact_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                        size_t err_size)
{
    instance *s = state;
    const rdapsync_json_api *j = H->json;
    redact_result result;
    char until[40];
    bool has_until;
    const char *klass;

    if (!record->value)
        return RDAPSYNC_OK; /* deletes carry nothing to redact */
    if (redact_document(j, s->policy, record->value, (int)s->config->max_depth, &result, err, err_size) != 0) {
        H->counter_add(s->ctx, "redact_errors", 1);
        /* Half-redacted or not, the document must not reach the dead-letter sink. */
        if (s->config->error_value == ERROR_VALUE_CLEAR)
            H->record_set_value(batch, record, NULL);
        return RDAPSYNC_ERROR;
    }
    has_until = redact_retention_until(s->policy, result.classification,
                                       record->version.event_time_ms > 0 ? record->version.event_time_ms : now_ms(),
                                       until, sizeof until);
    if (s->config->annotate &&
        redact_annotate(j, record->value, s->policy, &result, has_until ? until : NULL) != 0)
        return RDAPSYNC_RETRY;
    klass = rclass_name(result.classification);
    if (s->config->headers &&
        (H->record_add_header(batch, record, "rdapsync.classification", klass, strlen(klass)) != 0 ||
         (has_until && H->record_add_header(batch, record, "rdapsync.retention_until", until, strlen(until)) != 0)))
        return RDAPSYNC_RETRY;
    H->counter_add(s->ctx, "redacted_records", 1);
    if (result.redactions)
        H->counter_add(s->ctx, "redactions", result.redactions);
    for (int f = 0; f <= RF_COUNT; f++)
        if (result.by_field[f])
            H->counter_add(s->ctx, redact_field_counter(f), result.by_field[f]);
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "redact",
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "redacts personal data by policy (GDPR, CCPA) with RFC 9537 annotations, classification and retention",
    .options = options,
    .config_size = sizeof(struct config),
    .open = redact_open,
    .close = redact_close,
    .transform = redact_transform,
    /* Each call reads the instance and the policy and changes only its own record. */
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &descriptor;
}
