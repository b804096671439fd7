#include "config_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const minimal_yaml = "pipelines:\n"          /* 1 */
                                 "  - name: p1\n"        /* 2 */
                                 "    source:\n"         /* 3 */
                                 "      plugin: tsource\n" /* 4 */
                                 "      config:\n"       /* 5 */
                                 "        path: in.jsonl\n" /* 6 */
                                 "    sink:\n"           /* 7 */
                                 "      plugin: tsink\n" /* 8 */
                                 "      config:\n"       /* 9 */
                                 "        table: rdap\n"; /* 10 */

void write_temp(char *path, const char *suffix, const char *text)
{
    snprintf(path, 64, "/tmp/rdapsync-test-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    cr_assert(fd >= 0, "cannot create a temp file");
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

void load_yaml(loaded *l, const char *yaml)
{
    memset(l, 0, sizeof(*l));
    unsetenv("RDAPSYNC_PLUGIN_PATH");
    write_temp(l->path, ".yaml", yaml);
    const char *dirs[] = { CONFIG_FIXTURE_DIR };
    l->registry = registry_new(dirs, 1);
    diag_list_init(&l->diags);
    l->config = config_load(l->path, l->registry, &l->diags);
}

void loaded_free(loaded *l)
{
    config_free(l->config);
    diag_list_free(&l->diags);
    registry_free(l->registry);
    unlink(l->path);
}

const diag *find_diag(const loaded *l, int line, int column, const char *text)
{
    for (size_t i = 0; i < l->diags.count; i++) {
        const diag *d = &l->diags.items[i];
        if (d->line == line && d->column == column && strstr(d->message, text))
            return d;
    }
    return NULL;
}

static void dump(const loaded *l)
{
    for (size_t i = 0; i < l->diags.count; i++)
        cr_log_error("  %d:%d %s %s", l->diags.items[i].line, l->diags.items[i].column,
                     l->diags.items[i].severity == DIAG_ERROR ? "error" : "warning", l->diags.items[i].message);
}

void expect_diag(const loaded *l, diag_severity severity, int line, int column, const char *text)
{
    const diag *d = find_diag(l, line, column, text);
    if (!d || d->severity != severity)
        dump(l);
    cr_assert_not_null(d, "no diagnostic at %d:%d containing '%s'", line, column, text);
    cr_assert_eq(d->severity, severity, "wrong severity at %d:%d", line, column);
    cr_assert_str_eq(d->file, l->path);
}

int any_diag_contains(const loaded *l, const char *text)
{
    for (size_t i = 0; i < l->diags.count; i++)
        if (strstr(l->diags.items[i].message, text))
            return 1;
    return 0;
}
