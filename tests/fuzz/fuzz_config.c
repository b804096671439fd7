/*
 * libFuzzer target: the configuration loader, from YAML bytes to a
 * validated rdapsync_config, ${env:...} / ${file:...} resolution included,
 * with the real plugins' option tables. Whatever the bytes, config_load()
 * answers a config or diagnostics, never crashes, leaks or reads out of
 * bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "log.h"
#include "secrets.h"

static char path[] = "/tmp/rdapsync-fuzz-config-XXXXXX";
static plugin_registry *anchor;
static const char *plugin_dirs[1];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(fd);
    /* References the seeds and the dictionary use. */
    setenv("RDAPSYNC_FUZZ_DSN", "host=127.0.0.1 password=fuzz-secret", 1);
    setenv("RDAPSYNC_FUZZ_EMPTY", "", 1);
    plugin_dirs[0] = getenv("RDAPSYNC_FUZZ_PLUGIN_DIR") ? getenv("RDAPSYNC_FUZZ_PLUGIN_DIR") : RDAPSYNC_PLUGIN_BUILD_DIR;
    /* Keeps every plugin loaded for the whole run: the registry of each
     * input then only takes a reference (no unmapping between inputs). */
    anchor = registry_new(plugin_dirs, 1);
    for (int kind = RDAPSYNC_KIND_SOURCE; kind <= RDAPSYNC_KIND_SINK; kind++) {
        static const char *const names[] = {"file", "kafka", "postgres", "normalize", "redact", "mysql",
                                            "sqlite", "discard", "mongodb"};
        char err[256];
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            (void)registry_get(anchor, (rdapsync_kind)kind, names[i], err, sizeof(err));
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);

    plugin_registry *registry = registry_new(plugin_dirs, 1);
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = config_load(path, registry, &diags);
    /* A config is returned exactly when there is no error. */
    if ((config != NULL) == (diag_error_count(&diags) > 0))
        abort();
    config_free(config);
    diag_list_free(&diags);
    registry_free(registry);
    secrets_reset();
    return 0;
}
