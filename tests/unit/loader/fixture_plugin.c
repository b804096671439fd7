/*
 * One plugin source, built once per VARIANT_* into deliberately broken (or
 * good) plugins for the loader tests. Each variant breaks exactly one thing.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <rdapsync/rdapsync.h>

typedef struct fixture_config {
    char *path;
    int64_t count;
    bool enabled;
    int64_t size;
    int64_t wait;
    int mode;
    rdapsync_string_list topics;
    double ratio;
    rdapsync_string_map properties;
    rdapsync_options_set set;
} fixture_config;

static const char *const modes[] = { "fast", "safe", NULL };

static const rdapsync_option options[] = {
    { .name = "path", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_REQUIRED,
      .offset = offsetof(fixture_config, path), .description = "where" },
    { .name = "count", .type = RDAPSYNC_OPT_INT, .default_value = "10", .min = 1, .max = 100,
      .offset = offsetof(fixture_config, count), .description = "how many" },
#if defined(VARIANT_OPT_DUPLICATE)
    { .name = "count", .type = RDAPSYNC_OPT_INT, .offset = offsetof(fixture_config, count) },
#endif
#if defined(VARIANT_OPT_OFFSET)
    { .name = "beyond", .type = RDAPSYNC_OPT_INT, .offset = sizeof(fixture_config) },
#endif
#if defined(VARIANT_OPT_TYPE)
    { .name = "strange", .type = (rdapsync_option_type)42, .offset = offsetof(fixture_config, count) },
#endif
#if defined(VARIANT_OPT_DEFAULT)
    { .name = "timeout", .type = RDAPSYNC_OPT_DURATION, .default_value = "5 parsecs",
      .offset = offsetof(fixture_config, wait) },
#endif
#if defined(VARIANT_OPT_ENUM)
    { .name = "level", .type = RDAPSYNC_OPT_ENUM, .offset = offsetof(fixture_config, mode) },
#endif
#if defined(VARIANT_OPT_REQUIRED_DEFAULT)
    { .name = "must", .type = RDAPSYNC_OPT_STRING, .flags = RDAPSYNC_OPT_REQUIRED, .default_value = "x",
      .offset = offsetof(fixture_config, path) },
#endif
    { .name = "enabled", .type = RDAPSYNC_OPT_BOOL, .default_value = "yes", .offset = offsetof(fixture_config, enabled) },
    { .name = "size", .type = RDAPSYNC_OPT_SIZE, .default_value = "1M", .offset = offsetof(fixture_config, size) },
    { .name = "wait", .type = RDAPSYNC_OPT_DURATION, .default_value = "5s", .offset = offsetof(fixture_config, wait) },
    { .name = "mode", .type = RDAPSYNC_OPT_ENUM, .default_value = "safe", .enum_values = modes,
      .offset = offsetof(fixture_config, mode) },
    { .name = "topics", .type = RDAPSYNC_OPT_LIST, .default_value = "a,b", .offset = offsetof(fixture_config, topics) },
    { .name = "ratio", .type = RDAPSYNC_OPT_DOUBLE, .default_value = "0.5", .offset = offsetof(fixture_config, ratio) },
    { .name = "properties", .type = RDAPSYNC_OPT_MAP, .offset = offsetof(fixture_config, properties) },
    { 0 }
};

__attribute__((unused)) static rdapsync_status fixture_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    *state = NULL;
    return RDAPSYNC_OK;
}

static void fixture_close(void *state)
{
}

__attribute__((unused)) static rdapsync_status fixture_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    return RDAPSYNC_OK;
}

__attribute__((unused)) static rdapsync_status fixture_flush(void *state, char *err, size_t err_size)
{
    return RDAPSYNC_OK;
}

__attribute__((unused)) static rdapsync_status fixture_poll(void *state, rdapsync_batch *batch, int timeout_ms, char *err, size_t err_size)
{
    return RDAPSYNC_END;
}

__attribute__((unused)) static rdapsync_status fixture_transform(void *state, rdapsync_batch *batch, rdapsync_record *record, char *err,
                                         size_t err_size)
{
    return RDAPSYNC_OK;
}

#if defined(VARIANT_NO_POLL)
#define FIXTURE_KIND RDAPSYNC_KIND_SOURCE
#elif defined(VARIANT_NO_TRANSFORM)
#define FIXTURE_KIND RDAPSYNC_KIND_TRANSFORM
#elif defined(VARIANT_TRANSFORM_SUBJECT)
#define FIXTURE_KIND RDAPSYNC_KIND_TRANSFORM
#elif defined(VARIANT_WRONG_KIND)
#define FIXTURE_KIND RDAPSYNC_KIND_SOURCE /* the file says sink */
#else
#define FIXTURE_KIND RDAPSYNC_KIND_SINK
#endif

#if defined(VARIANT_TRANSFORM_SUBJECT)
static rdapsync_status fixture_subject_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn,
                                           void *arg, char *err, size_t err_size)
{
    (void)state, (void)s, (void)fn, (void)arg, (void)err, (void)err_size;
    return RDAPSYNC_OK;
}
#endif

static rdapsync_plugin descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = FIXTURE_NAME,
    .kind = FIXTURE_KIND,
    .version = "9.9.9",
    .description = "loader test fixture",
    .options = options,
    .config_size = sizeof(fixture_config),
    .open = fixture_open,
    .close = fixture_close,
#if !defined(VARIANT_NO_POLL)
    .poll = fixture_poll,
#endif
#if !defined(VARIANT_NO_TRANSFORM)
    .transform = fixture_transform,
#endif
    .write = fixture_write,
#if !defined(VARIANT_NO_FLUSH)
    .flush = fixture_flush,
#endif
    RDAPSYNC_OPTIONS_SET_IN(fixture_config, set),
};

#if defined(VARIANT_UNDEFINED_SYMBOL)
extern int rdapsync_symbol_nobody_defines(void);
#endif

#if defined(VARIANT_CONSTRUCTOR)
#include <stdio.h>
#include <stdlib.h>
/* What a planted library does: run code at dlopen(), before anyone looks
 * at its descriptor. It leaves a mark the test looks for. */
__attribute__((constructor)) static void leave_mark(void)
{
    const char *mark = getenv("RDAPSYNC_TEST_CONSTRUCTOR_MARK");
    FILE *f = mark ? fopen(mark, "w") : NULL;
    if (f)
        fclose(f);
}
#endif

#if defined(VARIANT_NO_ENTRY)
RDAPSYNC_EXPORT const rdapsync_plugin *not_the_entry(const rdapsync_host *host);
RDAPSYNC_EXPORT const rdapsync_plugin *not_the_entry(const rdapsync_host *host)
{
    return &descriptor;
}
#else
RDAPSYNC_PLUGIN_ENTRY(host)
{
#if defined(VARIANT_UNDEFINED_SYMBOL)
    if (rdapsync_symbol_nobody_defines())
        return NULL;
#endif
#if defined(VARIANT_NULL_DESCRIPTOR)
    return NULL;
#endif
#if defined(VARIANT_ABI_MAJOR)
    descriptor.abi_major = RDAPSYNC_ABI_MAJOR + 1;
#endif
#if defined(VARIANT_ABI_MINOR)
    descriptor.abi_minor = RDAPSYNC_ABI_MINOR + 1;
#endif
#if defined(VARIANT_SHORT_STRUCT)
    descriptor.struct_size = (uint32_t)offsetof(rdapsync_plugin, flush);
#endif
#if defined(VARIANT_NONE)
    descriptor.flags = RDAPSYNC_TRANSFORM_CONCURRENT;
#endif
#if defined(VARIANT_ABI_1_1)
    /* Built before the options set existed: the descriptor ends after
     * flags, and what follows it is not the plugin's to vouch for. */
    descriptor.abi_minor = 1;
    descriptor.struct_size = (uint32_t)(offsetof(rdapsync_plugin, flags) + sizeof(descriptor.flags));
    descriptor.flags = RDAPSYNC_TRANSFORM_CONCURRENT;
    descriptor.options_set_end = 1;
#endif
#if defined(VARIANT_ABI_1_2)
    /* Built before transform_commit existed: the descriptor ends after
     * options_set_end; a host reading further would call garbage. */
    descriptor.abi_minor = 2;
    descriptor.struct_size = (uint32_t)(offsetof(rdapsync_plugin, options_set_end) + sizeof(size_t));
#endif
#if defined(VARIANT_OPTSET_OVERLAP)
    descriptor.options_set_end = sizeof(rdapsync_options_set); /* over path, at offset 0 */
#endif
#if defined(VARIANT_ABI_1_0)
    /* Built before flags existed: the descriptor ends after flush, and what
     * follows it in memory is not the plugin's to vouch for. */
    descriptor.abi_minor = 0;
    descriptor.struct_size = (uint32_t)(offsetof(rdapsync_plugin, flush) + sizeof(descriptor.flush));
    descriptor.flags = 0xffffffffu;
#endif
#if defined(VARIANT_TRANSFORM_SUBJECT)
    /* Subject calls run on sink instances only: on a transform they are a
     * mistake the loader names. */
    descriptor.subject_find = fixture_subject_find;
#endif
#if defined(VARIANT_TINY_STRUCT)
    descriptor.struct_size = 4;
#endif
#if defined(VARIANT_WRITES_TO_CLOSED_PIPE)
    /* Plugin code writing where nobody reads, as soon as it is loaded: the
     * process survives only if SIGPIPE was ignored before the entry ran. */
    int fds[2];
    descriptor.description = "no pipe";
    if (pipe(fds) == 0) {
        close(fds[0]);
        descriptor.description = write(fds[1], "x", 1) < 0 && errno == EPIPE ? "write failed with EPIPE"
                                                                               : "write did not fail with EPIPE";
        close(fds[1]);
    }
#endif
    return &descriptor;
}
#endif
