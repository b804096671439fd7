/*
 * The Redis sink without a server: its URL parser, check() on options
 * filled by the host's own option filler from YAML (so "written" versus
 * "default" is the host's), the RETRY/ERROR classification of error
 * replies, and the hex form of versions the guard script compares.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "loader.h"
#include "options.h"
#include "rds.h"
#include "yaml_tree.h"

const rdapsync_host *rds_host;

/* ---- URL ---- */

Test(sink_redis_url, parses_host_port_and_database)
{
    rds_endpoint e;
    char err[256] = "";
    cr_assert_eq(rds_url_parse("redis://cache.example:6380/3", &e, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(e.host, "cache.example");
    cr_assert_eq(e.port, 6380);
    cr_assert_eq(e.database, 3);
    cr_assert_eq(rds_url_parse("redis://10.0.0.1", &e, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(e.host, "10.0.0.1");
    cr_assert_eq(e.port, 6379, "the default port");
    cr_assert_eq(e.database, 0, "the default database");
    cr_assert_eq(rds_url_parse("redis://[::1]:7000/", &e, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(e.host, "::1");
    cr_assert_eq(e.port, 7000);
}

Test(sink_redis_url, refuses_what_it_cannot_honour_with_a_reason)
{
    static const struct {
        const char *url, *reason;
    } bad[] = {
        { "rediss://h:6379/0", "must start with redis://" },
        { "http://h/", "must start with redis://" },
        { "redis://u:p@h:6379/0", "credentials do not belong in the url" },
        { "redis://:p@h/0", "credentials do not belong in the url" },
        { "redis://h:0/0", "port must be a number from 1 to 65535" },
        { "redis://h:65536/0", "port must be a number from 1 to 65535" },
        { "redis://h:63x/0", "port must be a number from 1 to 65535" },
        { "redis://h:/0", "port must be a number from 1 to 65535" },
        { "redis://h/x", "must be a database number" },
        { "redis://h/-1", "must be a database number" },
        { "redis:///0", "host is empty" },
        { "redis://[::1/0", "unterminated [ipv6] host" },
        { "redis://h?db=1", "query strings and fragments are not supported" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rds_endpoint e;
        char err[256] = "";
        cr_assert_eq(rds_url_parse(bad[i].url, &e, err, sizeof(err)), -1, "%s was accepted", bad[i].url);
        cr_assert(strstr(err, bad[i].reason), "%s: reason \"%s\", wanted \"%s\"", bad[i].url, err, bad[i].reason);
    }
}

/* ---- replies ---- */

Test(sink_redis_classify, transient_server_states_retry_and_the_rest_is_an_error)
{
    static const char *const retry[] = {
        "LOADING Redis is loading the dataset in memory",
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "READONLY You can't write against a read only replica.",
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "NOSCRIPT No matching script. Please use EVAL.",
        "READONLY You can't write against a read only replica. script: 1f0e, on @user_script:5.",
    };
    static const char *const error[] = {
        "WRONGTYPE Operation against a key holding the wrong kind of value script: 1f0e, on @user_script:1.",
        "NOTOURS the key exists without the sink's version key: not written by this sink",
        "ERR unknown command 'EVALSHA'",
        "NOPERM this user has no permissions to run the 'evalsha' command",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "BUSYGROUP Consumer Group name already exists",
        "LOADINGX not a real code",
        "",
    };
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
        cr_assert_eq(rds_classify(retry[i]), RDAPSYNC_RETRY, "\"%s\" should answer RETRY", retry[i]);
    for (size_t i = 0; i < sizeof(error) / sizeof(error[0]); i++)
        cr_assert_eq(rds_classify(error[i]), RDAPSYNC_ERROR, "\"%s\" should answer ERROR", error[i]);
}

/* ---- the guard's version strings ---- */

static char *hex(int64_t ts, const char *origin, int64_t seq)
{
    rds_buffer b = { 0 };
    rdapsync_version v = { ts, origin, seq };
    cr_assert_eq(rds_version_hex(&v, &b), 0);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    free(b.data);
    for (size_t i = 0; s[i]; i++)
        cr_assert(strchr("0123456789abcdef", s[i]), "not lowercase hex: %s", s);
    return s;
}

Test(sink_redis_version, hex_strings_compare_like_the_versions)
{
    static const struct {
        int64_t ts;
        const char *origin;
        int64_t seq;
    } v[] = {
        { INT64_MIN, NULL, 0 }, { -5, "b", 9 }, { 0, NULL, INT64_MIN }, { 0, NULL, 0 },  { 0, "", 1 },
        { 0, "a", -1 },         { 0, "a", 0 },  { 0, "ab", 0 },         { 0, "b", 0 },   { 0, "\xc3\xa9", 0 },
        { 1, NULL, 0 },         { 255, "", 0 }, { 256, "", 0 },         { INT64_MAX, "z", INT64_MAX },
    };
    size_t n = sizeof(v) / sizeof(v[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            char *a = hex(v[i].ts, v[i].origin, v[i].seq), *b = hex(v[j].ts, v[j].origin, v[j].seq);
            rdapsync_version va = { v[i].ts, v[i].origin, v[i].seq }, vb = { v[j].ts, v[j].origin, v[j].seq };
            int want = rdapsync_version_compare(&va, &vb), got = strcmp(a, b);
            cr_assert_eq(want < 0, got < 0, "%zu vs %zu: %s vs %s", i, j, a, b);
            cr_assert_eq(want == 0, got == 0, "%zu vs %zu: %s vs %s", i, j, a, b);
            free(a);
            free(b);
        }
}

/* ---- check() on options filled by the host ---- */

typedef struct loaded {
    loaded_plugin *plugin;
    void *settings;
} loaded;

/* Fills the sink's options from `yaml`; NULL settings when the filler
 * itself refused them. */
static loaded load(const char *yaml)
{
    char file[512], err[512];
    diag_list diags;
    bool failed = false;
    loaded l = { 0 };
    snprintf(file, sizeof(file), "%s/sink-redis.so", RDAPSYNC_PLUGIN_BUILD_DIR);
    l.plugin = loader_load(file, RDAPSYNC_KIND_SINK, "redis", err, sizeof(err));
    cr_assert_not_null(l.plugin, "loading %s: %s", file, err);
    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root, "YAML '%s' does not parse", yaml);
    l.settings = options_fill(l.plugin->desc, root, root, "test.yaml", "test", &diags, &failed);
    cr_assert(!failed && diag_error_count(&diags) == 0, "options '%s' refused by the filler", yaml);
    ynode_free(root);
    diag_list_free(&diags);
    return l;
}

static void unload(loaded *l)
{
    options_free(l->plugin->desc, l->settings);
    loader_unload(l->plugin);
}

/* check() of `yaml`: the status, and the reason in err. */
static rdapsync_status check(const char *yaml, char *err, size_t err_size)
{
    loaded l = load(yaml);
    err[0] = '\0';
    rdapsync_status status = l.plugin->desc->check(l.settings, err, err_size);
    unload(&l);
    return status;
}

Test(sink_redis_check, the_defaults_and_each_way_of_naming_the_server_pass)
{
    char err[512];
    static const char *const good[] = {
        "{}",
        "{url: \"redis://127.0.0.1:6379/2\"}",
        "{host: cache.example, port: 6380, database: 1}",
        "{url: \"redis://h/0\", username: u, password: p, prefix: \"\", ttl: 1h, tombstone_ttl: 1d}",
        "{password: p}",
        "{wait_replicas: 1, wait_timeout_ms: 250ms}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert_eq(check(good[i], err, sizeof(err)), RDAPSYNC_OK, "%s: %s", good[i], err);
}

Test(sink_redis_check, an_option_written_as_its_default_still_counts_as_written)
{
    char err[512];
    /* port 6379 is the default: written next to url, it is still a second
     * way of naming the server. */
    cr_assert_eq(check("{url: \"redis://h:7000/0\", port: 6379}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "url and port are both set"), "reason: %s", err);
    cr_assert_eq(check("{url: \"redis://h/0\", host: \"127.0.0.1\"}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "url and host are both set"), "reason: %s", err);
    cr_assert_eq(check("{url: \"redis://h/0\", database: 0}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "url and database are both set"), "reason: %s", err);
    cr_assert_eq(check("{wait_timeout_ms: 1s}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "wait_timeout_ms is set but wait_replicas is 0"), "reason: %s", err);
}

Test(sink_redis_check, refuses_bad_urls_and_a_user_without_password)
{
    char err[512];
    cr_assert_eq(check("{url: \"redis://u:hunter2@h/0\"}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "credentials do not belong in the url"), "reason: %s", err);
    cr_assert_null(strstr(err, "hunter2"), "the password leaked into the reason: %s", err);
    cr_assert_eq(check("{url: \"redis://h:99999/0\"}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "port must be"), "reason: %s", err);
    cr_assert_eq(check("{username: someone}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "username \"someone\" is set without a password"), "reason: %s", err);
    cr_assert_eq(check("{host: \"\"}", err, sizeof(err)), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "host must not be empty"), "reason: %s", err);
}

Test(sink_redis_check, the_password_is_a_secret_option)
{
    loaded l = load("{}");
    const rdapsync_option *o = l.plugin->desc->options;
    bool found = false;
    for (; o->name; o++)
        if (strcmp(o->name, "password") == 0) {
            found = true;
            cr_assert(o->flags & RDAPSYNC_OPT_SECRET, "password is not marked secret");
        }
    cr_assert(found, "no password option");
    unload(&l);
}
