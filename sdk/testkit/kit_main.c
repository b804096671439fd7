/*
 * rdapsync-sink-testkit: runs a sink .so through the SDK's contract and
 * prints one PASS/FAIL/SKIP line per case, then "N passed, N failed".
 * Exit status 0 when nothing failed (and something passed), 1 otherwise,
 * 2 for a usage error. docs/testkit.md tells how to run it on a sink.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "log.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rdapsync-sink-testkit --plugin SINK.so --config CONFIG.yaml\n"
            "                             (--hook HOOK.so | --reset-cmd CMD --readback-cmd CMD) [options]\n"
            "\n"
            "  --plugin PATH         the sink under test (a file named sink-<name>.so)\n"
            "  --config FILE         YAML mapping of the sink's options (${env:NAME} works)\n"
            "  --hook PATH           .so exporting rdapsync_testkit_reset/readback (testkit.h)\n"
            "  --reset-cmd CMD       shell command emptying the sink's target\n"
            "  --readback-cmd CMD    shell command printing the stored state as JSON lines\n"
            "  --hook-arg TEXT       passed to the hook (commands: $RDAPSYNC_TESTKIT_ARG)\n"
            "  --bad-config FILE     a config open must refuse (repeatable)\n"
            "  --fail-cmd CMD        breaks the sink's connection (e.g. terminates its session)\n"
            "  --seed N              seed of the generated records (default 1)\n"
            "  --large-batch N       records in the large-batch case (default 5000)\n"
            "  --long-key-bytes N    longest key that must be stored (default 2000)\n"
            "  --only NAME           run only this case (repeatable)\n"
            "  --list                list the cases and exit\n"
            "  --verbose             the host's debug log on stderr\n");
}

static bool selected(const char *name, char **only, size_t only_count)
{
    if (only_count == 0)
        return true;
    for (size_t i = 0; i < only_count; i++)
        if (strcmp(only[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    enum { O_PLUGIN = 256, O_CONFIG, O_HOOK, O_RESET, O_READBACK, O_ARG, O_BAD, O_FAIL, O_SEED, O_LARGE, O_LONG,
           O_ONLY, O_LIST, O_VERBOSE, O_HELP };
    static const struct option longopts[] = {
        { "plugin", required_argument, NULL, O_PLUGIN },
        { "config", required_argument, NULL, O_CONFIG },
        { "hook", required_argument, NULL, O_HOOK },
        { "reset-cmd", required_argument, NULL, O_RESET },
        { "readback-cmd", required_argument, NULL, O_READBACK },
        { "hook-arg", required_argument, NULL, O_ARG },
        { "bad-config", required_argument, NULL, O_BAD },
        { "fail-cmd", required_argument, NULL, O_FAIL },
        { "seed", required_argument, NULL, O_SEED },
        { "large-batch", required_argument, NULL, O_LARGE },
        { "long-key-bytes", required_argument, NULL, O_LONG },
        { "only", required_argument, NULL, O_ONLY },
        { "list", no_argument, NULL, O_LIST },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    const char *plugin = NULL, *config = NULL, *hook_path = NULL;
    kit_hook hook = { 0 };
    kit_options options = { .seed = 1, .large_batch = 5000, .long_key_bytes = 2000 };
    char **bad = calloc((size_t)argc, sizeof(*bad));
    char **only = calloc((size_t)argc, sizeof(*only));
    size_t only_count = 0;
    bool list = false;
    int log_level = RDAPSYNC_LOG_WARN, opt;

    if (!bad || !only)
        return 2;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case O_PLUGIN: plugin = optarg; break;
        case O_CONFIG: config = optarg; break;
        case O_HOOK: hook_path = optarg; break;
        case O_RESET: hook.reset_cmd = optarg; break;
        case O_READBACK: hook.readback_cmd = optarg; break;
        case O_ARG: hook.arg = optarg; break;
        case O_BAD: bad[options.bad_config_count++] = optarg; break;
        case O_FAIL: options.fail_cmd = optarg; break;
        case O_SEED: options.seed = strtoull(optarg, NULL, 10); break;
        case O_LARGE: options.large_batch = strtoull(optarg, NULL, 10); break;
        case O_LONG: options.long_key_bytes = strtoull(optarg, NULL, 10); break;
        case O_ONLY: only[only_count++] = optarg; break;
        case O_LIST: list = true; break;
        case O_VERBOSE: log_level = RDAPSYNC_LOG_DEBUG; break;
        case O_HELP: usage(stdout); free(bad); free(only); return 0;
        default: usage(stderr); free(bad); free(only); return 2;
        }
    }
    options.bad_configs = (const char *const *)bad;
    if (list) {
        for (size_t i = 0; kit_cases[i].name; i++)
            printf("%-32s %s\n", kit_cases[i].name, kit_cases[i].promise);
        free(bad);
        free(only);
        return 0;
    }
    if (!plugin || !config || (!hook_path && (!hook.reset_cmd || !hook.readback_cmd)) || options.large_batch == 0 ||
        options.long_key_bytes < 8) {
        usage(stderr);
        free(bad);
        free(only);
        return 2;
    }
    log_configure(0, log_level);
    /* As the host does, before anything is loaded (loader.c says why): a
     * sink whose server goes away mid-write meets EPIPE and answers RETRY,
     * where the default action would end the kit and hide the very failure
     * path retry_after_failure is there to test. The hook may use sockets
     * too, so this comes before the hook as well as the sink. */
    loader_ignore_sigpipe();

    char err[2048];
    kit_sink sink;
    int status = 1;
    if (hook_path && kit_hook_load(&hook, hook_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "rdapsync-sink-testkit: hook %s: %s\n", hook_path, err);
        goto done;
    }
    if (kit_sink_load(&sink, plugin, config, err, sizeof(err)) != 0) {
        /* Loading is the first promise: report it like a case. */
        printf("FAIL load: %s\n0 passed, 1 failed\n", err);
        kit_sink_unload(&sink);
        goto done;
    }
    printf("sink %s %s (%s)\n", sink.desc->name, sink.desc->version ? sink.desc->version : "", plugin);
    fflush(stdout);

    size_t passed = 0, failed = 0;
    for (size_t i = 0; kit_cases[i].name; i++) {
        if (!selected(kit_cases[i].name, only, only_count))
            continue;
        char why[4096] = "";
        kit_verdict verdict = kit_cases[i].run(&sink, &hook, &options, why, sizeof(why));
        kit_sink_close(&sink);
        if (verdict == KIT_PASS) {
            passed++;
            printf("PASS %s\n", kit_cases[i].name);
        } else if (verdict == KIT_SKIP) {
            printf("SKIP %s: %s\n", kit_cases[i].name, why);
        } else {
            failed++;
            printf("FAIL %s: %s\n", kit_cases[i].name, why[0] ? why : "(no reason given)");
        }
        fflush(stdout);
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    status = failed == 0 && passed > 0 ? 0 : 1;
    kit_sink_unload(&sink);
done:
    kit_hook_unload(&hook);
    free(bad);
    free(only);
    return status;
}
