/*
 * Plugins for the configuration tests, one source built per FIXTURE_KIND_*:
 * a source with one option of every type, a pass-through transform, and a
 * sink with a secret, transport options and a check() hook.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rdapsync/rdapsync.h>

__attribute__((unused)) static rdapsync_status fixture_open(rdapsync_ctx *ctx, const void *config, void **state,
                                                            char *err, size_t err_size)
{
    *state = NULL;
    return RDAPSYNC_OK;
}

__attribute__((unused)) static void fixture_close(void *state)
{
}

#if defined(FIXTURE_KIND_SOURCE)
typedef struct source_config {
    char *path;
    int mode;
    int64_t poll_interval;
    rdapsync_string_list topics;
    int64_t limit;
    int64_t max_size;
    double ratio;
    rdapsync_string_map properties;
    bool enabled;
    char *label;
} source_config;

static const char *const modes[] = { "lines", "json", NULL };

static const rdapsync_option options[] = {
    { .name = "path", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_REQUIRED,
      .offset = offsetof(source_config, path), .description = "file to read" },
    { .name = "mode", .type = RDAPSYNC_OPT_ENUM, .default_value = "lines", .enum_values = modes,
      .offset = offsetof(source_config, mode) },
    { .name = "poll_interval", .type = RDAPSYNC_OPT_DURATION, .default_value = "5s", .min = 1, .max = 86400000,
      .offset = offsetof(source_config, poll_interval) },
    { .name = "topics", .type = RDAPSYNC_OPT_LIST, .default_value = "a,b", .offset = offsetof(source_config, topics) },
    { .name = "limit", .type = RDAPSYNC_OPT_INT, .default_value = "10", .min = 1, .max = 100,
      .offset = offsetof(source_config, limit) },
    { .name = "max_size", .type = RDAPSYNC_OPT_SIZE, .default_value = "1M", .offset = offsetof(source_config, max_size) },
    { .name = "ratio", .type = RDAPSYNC_OPT_DOUBLE, .default_value = "0.25", .offset = offsetof(source_config, ratio) },
    { .name = "properties", .type = RDAPSYNC_OPT_MAP, .offset = offsetof(source_config, properties) },
    { .name = "enabled", .type = RDAPSYNC_OPT_BOOL, .default_value = "on", .offset = offsetof(source_config, enabled) },
    { .name = "label", .type = RDAPSYNC_OPT_STRING, .offset = offsetof(source_config, label) },
    { 0 }
};

static rdapsync_status fixture_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    return RDAPSYNC_END;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = FIXTURE_NAME,
    .kind = RDAPSYNC_KIND_SOURCE,
    .version = "1.0.0",
    .description = "config test source",
    .options = options,
    .config_size = sizeof(source_config),
    .open = fixture_open,
    .close = fixture_close,
    .poll = fixture_poll,
};

#elif defined(FIXTURE_KIND_TRANSFORM)
typedef struct transform_config {
    char *policy;
} transform_config;

static const rdapsync_option options[] = {
    { .name = "policy", .type = RDAPSYNC_OPT_STRING, .default_value = "gdpr",
      .offset = offsetof(transform_config, policy) },
    { 0 }
};

static rdapsync_status fixture_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                         size_t err_size)
{
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = FIXTURE_NAME,
    .kind = RDAPSYNC_KIND_TRANSFORM,
    .version = "1.0.0",
    .description = "config test transform",
    .options = options,
    .config_size = sizeof(transform_config),
    .open = fixture_open,
    .close = fixture_close,
    .transform = fixture_transform,
#if defined(FIXTURE_CONCURRENT)
    .flags = RDAPSYNC_TRANSFORM_CONCURRENT,
#elif defined(FIXTURE_LIGHT)
    .flags = RDAPSYNC_TRANSFORM_LIGHT,
#endif
};

#else
typedef struct sink_config {
    char *table;
    char *dsn;
    char *password;
    bool tls;
    rdapsync_string_list brokers;
    rdapsync_string_map properties;
} sink_config;

static const rdapsync_option options[] = {
    { .name = "table", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_REQUIRED,
      .offset = offsetof(sink_config, table) },
    { .name = "dsn", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_SECRET, .offset = offsetof(sink_config, dsn) },
    { .name = "password", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_SECRET,
      .offset = offsetof(sink_config, password) },
    { .name = "tls", .type = RDAPSYNC_OPT_BOOL, .default_value = "true", .offset = offsetof(sink_config, tls) },
    { .name = "brokers", .type = RDAPSYNC_OPT_LIST, .offset = offsetof(sink_config, brokers) },
    { .name = "properties", .type = RDAPSYNC_OPT_MAP, .offset = offsetof(sink_config, properties) },
    { 0 }
};

/* Cross-field rule to prove the hook runs and its reason is reported. */
static rdapsync_status fixture_check(const void *config, char *err, size_t err_size)
{
    const sink_config *c = config;
    if (strcmp(c->table, "forbidden") == 0) {
        snprintf(err, err_size, "table 'forbidden' is reserved");
        return RDAPSYNC_ERROR;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status fixture_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return RDAPSYNC_OK;
}

static rdapsync_status fixture_flush(void *state, char *err, size_t err_size)
{
    return RDAPSYNC_OK;
}

static const rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = FIXTURE_NAME,
    .kind = RDAPSYNC_KIND_SINK,
    .version = "1.0.0",
    .description = "config test sink",
    .options = options,
    .config_size = sizeof(sink_config),
    .check = fixture_check,
    .open = fixture_open,
    .close = fixture_close,
    .write = fixture_write,
    .flush = fixture_flush,
};
#endif

RDAPSYNC_PLUGIN_ENTRY(host)
{
    return &descriptor;
}
