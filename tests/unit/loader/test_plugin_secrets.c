/* Every in-tree plugin option that may carry a password is declared
 * secret: since plain ${env:} values are shown in logs, the secret flag is
 * what keeps a password from a log line (host/secrets.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "secrets.h"

typedef struct seen {
    int plugins;
    int with_credentials; /* plugins with at least one option checked below */
} seen;

/* A connection string or URI may embed a password (host=... password=...,
 * scheme://user:password@host). */
static bool may_embed_credentials(const char *name)
{
    static const char *const words[] = { "dsn", "uri", "url", "connection", "conninfo", NULL };
    for (size_t i = 0; words[i]; i++)
        if (strstr(name, words[i]))
            return true;
    return false;
}

static void check_plugin(const loaded_plugin *plugin, void *opaque)
{
    seen *s = opaque;
    if (strncmp(plugin->path, RDAPSYNC_PLUGIN_BUILD_DIR "/", strlen(RDAPSYNC_PLUGIN_BUILD_DIR) + 1) != 0)
        return; /* installed elsewhere on the search path: not this tree's */
    s->plugins++;
    bool any = false;
    for (const rdapsync_option *opt = plugin->desc->options; opt && opt->name; opt++) {
        /* Maps are pass-through properties: their entries are secret by key
         * (sasl.password), which the host decides when it fills them. A
         * number (postgres `connections: 2`) holds no password whatever its
         * name. */
        if (opt->type == RDAPSYNC_OPT_MAP || opt->type == RDAPSYNC_OPT_BOOL || opt->type == RDAPSYNC_OPT_ENUM ||
            opt->type == RDAPSYNC_OPT_INT || opt->type == RDAPSYNC_OPT_SIZE || opt->type == RDAPSYNC_OPT_DURATION ||
            opt->type == RDAPSYNC_OPT_DOUBLE)
            continue;
        if (!secrets_is_credential_name(opt->name) && !may_embed_credentials(opt->name))
            continue;
        any = true;
        cr_expect(opt->flags & RDAPSYNC_OPT_SECRET, "%s-%s: option '%s' may carry a password but is not secret",
                  rdapsync_kind_str(plugin->desc->kind), plugin->desc->name, opt->name);
    }
    s->with_credentials += any;
}

Test(plugin_secrets, every_in_tree_option_that_may_carry_a_password_is_secret)
{
    unsetenv("RDAPSYNC_PLUGIN_PATH");
    const char *dirs[] = { RDAPSYNC_PLUGIN_BUILD_DIR };
    plugin_registry *registry = registry_new(dirs, 1);
    seen s = { 0 };
    registry_each(registry, check_plugin, NULL, &s);
    registry_free(registry);
    cr_assert_geq(s.plugins, 11, "only %d in-tree plugins found in " RDAPSYNC_PLUGIN_BUILD_DIR, s.plugins);
    cr_assert_geq(s.with_credentials, 3, "postgres dsn, mongodb uri, mysql password: %d found",
                  s.with_credentials);
}
