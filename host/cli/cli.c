/* The command line: global options, then one command with its own options. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/spelling.h"
#include "cli/audit_cmd.h"
#include "cli/cli_plugins.h"
#include "cli/compliance_cmd.h"
#include "cli/dlq_replay.h"
#include "config/config.h"
#include "loader/loader.h"
#include "loader/plugin_trust.h"
#include "runtime/runtime.h"

#ifndef RDAPSYNC_VERSION
#define RDAPSYNC_VERSION "0.0.0"
#endif

#define MAX_PLUGIN_DIRS 64

/* What the global options set; they may also follow the command. */
typedef struct cli_globals {
    const char *plugin_dirs[MAX_PLUGIN_DIRS];
    size_t plugin_dir_count;
    int log_json;  /* -1 = from the file */
    int log_level; /* -1 = from the file */
    const char *pipeline; /* dlq replay --pipeline */
    const char *public_key; /* audit verify --public-key */
    compliance_request request; /* erase, access, retention */
} cli_globals;

enum {
    OPT_PLUGIN_PATH = 256,
    OPT_LOG_FORMAT,
    OPT_LOG_LEVEL,
    OPT_INSECURE_PLUGIN_PATH,
    OPT_STRICT,
    OPT_JSON,
    OPT_PIPELINE,
    OPT_PUBLIC_KEY,
    OPT_SUBJECT,
    OPT_DRY_RUN,
    OPT_OUT,
    OPT_NOW
};

#define GLOBAL_LONG_OPTIONS                                                                                    \
    { "plugin-path", required_argument, NULL, OPT_PLUGIN_PATH },                                               \
        { "log-format", required_argument, NULL, OPT_LOG_FORMAT },                                             \
        { "log-level", required_argument, NULL, OPT_LOG_LEVEL },                                               \
        { "insecure-plugin-path", no_argument, NULL, OPT_INSECURE_PLUGIN_PATH }, { "help", no_argument, NULL, 'h' }

typedef struct command {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(int argc, char **argv, cli_globals *globals);
} command;

/* The end of run and dlq replay: prints and frees the diagnostics, then runs
 * the configuration with the command line's log settings, or, when config
 * is NULL, says why (printf-style `refused`) and stops. Takes config, diags
 * and registry. */
RDAPSYNC_PRINTF(5, 6)
static int run_loaded(rdapsync_config *config, diag_list *diags, plugin_registry *registry,
                      const cli_globals *globals, const char *refused, ...)
{
    diag_sort(diags);
    diag_print(diags, stderr);
    diag_list_free(diags);
    if (!config) {
        va_list ap;
        va_start(ap, refused);
        fputs("rdapsync: ", stderr);
        vfprintf(stderr, refused, ap);
        va_end(ap);
        fputs("; nothing started\n", stderr);
        registry_free(registry);
        return EXIT_CONFIG;
    }
    if (globals->log_json >= 0)
        config->log_json = globals->log_json;
    if (globals->log_level >= 0)
        config->log_level = globals->log_level;
    int rc = runtime_run(config, registry); /* takes config */
    registry_free(registry);
    return rc;
}

static int command_run(int argc, char **argv, cli_globals *globals);
static int command_validate(int argc, char **argv, cli_globals *globals);
static int command_plugins(int argc, char **argv, cli_globals *globals);
static int command_version(int argc, char **argv, cli_globals *globals);
static int command_dlq(int argc, char **argv, cli_globals *globals);
static int command_help(int argc, char **argv, cli_globals *globals);
static int command_audit(int argc, char **argv, cli_globals *globals);
static int command_erase(int argc, char **argv, cli_globals *globals);
static int command_access(int argc, char **argv, cli_globals *globals);
static int command_retention(int argc, char **argv, cli_globals *globals);
static int command_restrict(int argc, char **argv, cli_globals *globals);

static const command commands[] = {
    { "run", "run FILE",
      "Loads and validates FILE, then runs its pipelines in the foreground until every bounded source has\n"
      "finished or a signal asks to stop (SIGTERM/SIGINT drain, flush and commit; SIGHUP reloads FILE).\n"
      "Exits 0 when every pipeline drained, 1 when a task failed for good, 3 when FILE is invalid,\n"
      "4 when the pipelines could not start.",
      command_run },
    { "validate", "validate FILE [--strict]",
      "Checks FILE without running anything but the plugins' check hooks: YAML shape, plugins, options,\n"
      "${env:NAME} / ${file:PATH} references, and safety checks (literal secrets, plaintext transport,\n"
      "no redaction before a database, ...). Prints one line per finding:\n"
      "  FILE:LINE:COLUMN: error: MESSAGE\n"
      "  FILE:LINE:COLUMN: warning: MESSAGE [check-id]\n"
      "then 'FILE: ok (N pipelines)' when there is no error. Exits 3 on errors, and under --strict also\n"
      "on warnings; 0 otherwise.\n"
      "  --strict   treat warnings as errors",
      command_validate },
    { "plugins", "plugins [--json] [NAME...]",
      "Lists every plugin found on the search path (--plugin-path, the file's plugin_path,\n"
      "$RDAPSYNC_PLUGIN_PATH, next to the executable, the install directory) with its kind, version,\n"
      "description and options. NAME filters by plugin name or KIND-NAME.\n"
      "  --json     print a JSON document with a JSON-schema for each plugin's config",
      command_plugins },
    { "dlq", "dlq replay FILE CONFIG [--pipeline NAME]",
      "Sends the dead letters in FILE (written by the file sink) back through their pipeline of CONFIG,\n"
      "after a fix: the pipeline named by their rdapsync.error.pipeline header (or NAME), under the name\n"
      "NAME.dlq-replay, one task, read by the file source, with the pipeline's transforms, sink and\n"
      "errors. Dead letters encrypted with errors.dead_letter.keyring are decrypted first. Keys, ops\n"
      "and versions are the originals, so version-guarded sinks take only what is newer; a replay\n"
      "stopped halfway (even by kill -9) resumes from its checkpoint when run again. Those that fail\n"
      "again are dead letters again. Exit codes as for run.\n"
      "  --pipeline NAME   the pipeline to replay through",
      command_dlq },
    { "erase", "erase --subject KIND:VALUE CONFIG [--dry-run]",
      "Erases everything about a data subject (KIND is email, handle, name or phone) in every sink and\n"
      "dead-letter sink of every pipeline of CONFIG, after adding it to the suppression list\n"
      "(compliance.suppression) so that no later sync brings it back. Where a pipeline has a redact\n"
      "transform, a document is redacted instead (every contact's personal data removed) and kept if the\n"
      "subject is then gone from it; otherwise it is deleted. Prints a report per sink and writes an\n"
      "audit line. Idempotent; a run stopped halfway resumes from its journal in the state directory.\n"
      "Exits 0 when every sink was covered, 1 when a sink could not be reached or cannot erase.\n"
      "  --dry-run   only count what would change; nothing is written or suppressed",
      command_erase },
    { "access", "access --subject KIND:VALUE CONFIG [--out FILE]",
      "Writes one JSON document with every stored document about the subject, sink by sink, in every\n"
      "pipeline of CONFIG (GDPR Art. 15 access, Art. 20 portability; CCPA right to know), and an audit\n"
      "line. Exits 1 when a sink could not be searched.\n"
      "  --out FILE  write the document to FILE (mode 0600) instead of standard output",
      command_access },
    { "restrict", "restrict --subject KIND:VALUE CONFIG",
      "Restricts processing of a data subject (GDPR Art. 18): the subject goes on the suppression list, so\n"
      "every pipeline redacts records about it on the way in, but nothing stored is changed. An audit\n"
      "line records it. 'erase' does the same and erases what is stored.",
      command_restrict },
    { "retention", "retention --now CONFIG",
      "Runs the retention purge once: in every sink and dead-letter sink of every pipeline of CONFIG,\n"
      "documents past their rdapsync.retention_until deadline are deleted (or anonymised, with the\n"
      "pipeline's retention.action). Prints a count per sink and writes an audit line.",
      command_retention },
    { "audit", "audit verify FILE [--public-key PEM]",
      "Checks an audit trail: every line whole, in sequence, chained to the one before and matching its\n"
      "hash; with --public-key (Ed25519, PEM), every line's signature too. Prints 'FILE: ok (...)' with\n"
      "the chain head, or names the first bad line (edited, deleted, inserted, reordered, unsigned)\n"
      "and exits 1. Exits 4 when FILE or the key cannot be read.\n"
      "  --public-key PEM   the public half of audit.sign_key",
      command_audit },
    { "version", "version", "Prints the rdapsync version and the plugin ABI it supports.", command_version },
    { "help", "help [COMMAND]", "Prints the usage, or the help of one command.", command_help },
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "'name'" or "'name' (did you mean 'run'?)" for an unknown command. */
static void describe_unknown_command(const char *name, char *out, size_t out_size)
{
    spelling near;
    spelling_start(&near, name);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        spelling_consider(&near, commands[i].name);
    const char *meant = spelling_nearest(&near);
    if (meant)
        snprintf(out, out_size, "'%s' (did you mean '%s'?)", name, meant);
    else
        snprintf(out, out_size, "'%s'", name);
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: rdapsync [GLOBAL OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %s\n", commands[i].synopsis);
    fprintf(out, "\nglobal options (also accepted after the command):\n"
                 "  --plugin-path DIR           search DIR for plugins first (repeatable)\n"
                 "  --log-format text|json      log line format (overrides the file's log.format)\n"
                 "  --log-level error|warn|info|debug\n"
                 "                              log verbosity (overrides the file's log.level)\n"
                 "  --insecure-plugin-path      load plugins even from files or directories that\n"
                 "                              other users can write to (a warning each)\n"
                 "  -h, --help                  this help; 'rdapsync help COMMAND' for one command\n"
                 "  -V, --version               same as 'rdapsync version'\n"
                 "\nexit codes: 0 ok, 1 a task failed, 2 usage, 3 invalid configuration, 4 could not start\n");
}

static void print_command_help(const command *cmd, FILE *out)
{
    fprintf(out, "usage: rdapsync [GLOBAL OPTIONS] %s\n\n%s\n", cmd->synopsis, cmd->help);
}

static int usage_error(const char *fmt, const char *detail)
{
    fprintf(stderr, "rdapsync: ");
    fprintf(stderr, fmt, detail);
    fprintf(stderr, "\nTry 'rdapsync --help'.\n");
    return EXIT_USAGE;
}

static int choice_index(const char *value, const char *const *choices)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return i;
    return -1;
}

/* Handles one global option; returns 0, or EXIT_USAGE after a message. */
static int apply_global(int option, const char *value, cli_globals *globals)
{
    static const char *const formats[] = { "text", "json", NULL };
    static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
    switch (option) {
    case OPT_PLUGIN_PATH:
        if (globals->plugin_dir_count == MAX_PLUGIN_DIRS)
            return usage_error("too many --plugin-path options%s", "");
        globals->plugin_dirs[globals->plugin_dir_count++] = value;
        return 0;
    case OPT_LOG_FORMAT:
        globals->log_json = choice_index(value, formats);
        return globals->log_json < 0 ? usage_error("--log-format must be text or json, not '%s'", value) : 0;
    case OPT_INSECURE_PLUGIN_PATH:
        plugin_trust_set_insecure(true);
        return 0;
    case OPT_LOG_LEVEL:
        globals->log_level = choice_index(value, levels);
        return globals->log_level < 0 ? usage_error("--log-level must be error, warn, info or debug, not '%s'", value)
                                      : 0;
    }
    return usage_error("unexpected option%s", "");
}

/*
 * Parses a command's options (the globals plus `extra`); sets *flags bits
 * for OPT_STRICT / OPT_JSON. On return *first_arg is the index of the first
 * positional argument. Returns 0, EXIT_USAGE, or -1 when help was printed.
 */
static int parse_command_options(int argc, char **argv, const command *cmd, const struct option *extra,
                                 cli_globals *globals, unsigned *flags, int *first_arg)
{
    struct option options[10] = { GLOBAL_LONG_OPTIONS };
    size_t count = 5;
    for (size_t i = 0; extra && extra[i].name && count < 9; i++)
        options[count++] = extra[i];
    memset(&options[count], 0, sizeof(options[count]));
    optind = 0; /* GNU getopt: 0 re-initialises for a new argv */
    opterr = 1;
    int option;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 'h':
            print_command_help(cmd, stdout);
            return -1;
        case OPT_STRICT:
        case OPT_JSON:
            *flags |= 1u << (option - OPT_STRICT);
            break;
        case OPT_PIPELINE:
            globals->pipeline = optarg;
            break;
        case OPT_PUBLIC_KEY:
            globals->public_key = optarg;
            break;
        case OPT_SUBJECT:
            globals->request.subject = optarg;
            break;
        case OPT_DRY_RUN:
            globals->request.dry_run = true;
            break;
        case OPT_OUT:
            globals->request.out = optarg;
            break;
        case OPT_NOW:
            globals->request.now = true;
            break;
        case '?':
            fprintf(stderr, "Try 'rdapsync help %s'.\n", cmd->name);
            return EXIT_USAGE;
        default: {
            int rc = apply_global(option, optarg, globals);
            if (rc)
                return rc;
        }
        }
    }
    *first_arg = optind;
    return 0;
}

#define FLAG_STRICT (1u << (OPT_STRICT - OPT_STRICT))
#define FLAG_JSON (1u << (OPT_JSON - OPT_STRICT))

/* Exactly one FILE argument. */
static int one_file(int argc, char **argv, int first, const command *cmd, const char **file)
{
    if (argc - first != 1) {
        fprintf(stderr, "rdapsync %s: expected exactly one FILE\nusage: rdapsync %s\n", cmd->name, cmd->synopsis);
        return EXIT_USAGE;
    }
    *file = argv[first];
    return 0;
}

static plugin_registry *new_registry(const cli_globals *globals)
{
    plugin_registry *registry = registry_new(globals->plugin_dirs, globals->plugin_dir_count);
    if (!registry)
        fprintf(stderr, "rdapsync: out of memory\n");
    return registry;
}

static int command_validate(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "strict", no_argument, NULL, OPT_STRICT }, { 0 } };
    const command *cmd = find_command("validate");
    unsigned flags = 0;
    int first = 0;
    const char *file = NULL;
    int rc = parse_command_options(argc, argv, cmd, extra, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = one_file(argc, argv, first, cmd, &file)))
        return rc;
    plugin_registry *registry = new_registry(globals);
    if (!registry)
        return EXIT_RUNTIME;
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = config_load(file, registry, &diags);
    bool strict = flags & FLAG_STRICT;
    if (strict)
        for (size_t i = 0; i < diags.count; i++)
            diags.items[i].severity = DIAG_ERROR;
    diag_sort(&diags);
    diag_print(&diags, stderr);
    bool ok = config && diag_error_count(&diags) == 0;
    if (ok)
        printf("%s: ok (%zu pipeline%s)\n", file, config->pipeline_count, config->pipeline_count == 1 ? "" : "s");
    config_free(config);
    diag_list_free(&diags);
    registry_free(registry);
    return ok ? EXIT_OK : EXIT_CONFIG;
}

static int command_run(int argc, char **argv, cli_globals *globals)
{
    const command *cmd = find_command("run");
    unsigned flags = 0;
    int first = 0;
    const char *file = NULL;
    int rc = parse_command_options(argc, argv, cmd, NULL, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = one_file(argc, argv, first, cmd, &file)))
        return rc;
    plugin_registry *registry = new_registry(globals);
    if (!registry)
        return EXIT_RUNTIME;
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = config_load(file, registry, &diags);
    return run_loaded(config, &diags, registry, globals, "%s is invalid", file);
}

static int command_dlq(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "pipeline", required_argument, NULL, OPT_PIPELINE }, { 0 } };
    const command *cmd = find_command("dlq");
    unsigned flags = 0;
    int first = 0;
    int rc = parse_command_options(argc, argv, cmd, extra, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (argc - first != 3 || strcmp(argv[first], "replay") != 0) {
        fprintf(stderr, "rdapsync dlq: expected replay FILE CONFIG\nusage: rdapsync %s\n", cmd->synopsis);
        return EXIT_USAGE;
    }
    const char *dead_letters = argv[first + 1], *file = argv[first + 2];
    plugin_registry *registry = new_registry(globals);
    if (!registry)
        return EXIT_RUNTIME;
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = NULL;
    ynode *tree = yaml_tree_load(file, &diags);
    if (tree && dlq_replay_rewrite(tree, file, dead_letters, globals->pipeline, &diags) == 0)
        config = config_load_tree(file, tree, registry, &diags, 0);
    else
        ynode_free(tree);
    return run_loaded(config, &diags, registry, globals, "cannot replay %s through %s", dead_letters, file);
}

static int command_audit(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "public-key", required_argument, NULL, OPT_PUBLIC_KEY }, { 0 } };
    const command *cmd = find_command("audit");
    unsigned flags = 0;
    int first = 0;
    int rc = parse_command_options(argc, argv, cmd, extra, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (argc - first != 2 || strcmp(argv[first], "verify") != 0) {
        fprintf(stderr, "rdapsync audit: expected verify FILE\nusage: rdapsync %s\n", cmd->synopsis);
        return EXIT_USAGE;
    }
    return audit_cmd_verify(argv[first + 1], globals->public_key, stdout, stderr);
}

/* erase, access and retention: options, one CONFIG, then compliance_cmd.c. */
static int compliance_command(int argc, char **argv, cli_globals *globals, const char *name,
                              const struct option *extra, compliance_op op)
{
    const command *cmd = find_command(name);
    unsigned flags = 0;
    int first = 0;
    const char *file = NULL;
    int rc = parse_command_options(argc, argv, cmd, extra, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = one_file(argc, argv, first, cmd, &file)))
        return rc;
    if (op != COMPLIANCE_RETENTION && !globals->request.subject)
        return usage_error("%s needs --subject KIND:VALUE (email, handle, name or phone)", name);
    if (op == COMPLIANCE_RETENTION && !globals->request.now)
        return usage_error("%s runs only with --now (the daemon runs it on its retention.interval)", "retention");
    plugin_registry *registry = new_registry(globals);
    if (!registry)
        return EXIT_RUNTIME;
    diag_list diags;
    diag_list_init(&diags);
    rdapsync_config *config = config_load(file, registry, &diags);
    diag_sort(&diags);
    diag_print(&diags, stderr);
    diag_list_free(&diags);
    if (!config) {
        fprintf(stderr, "rdapsync: %s is invalid; nothing done\n", file);
        registry_free(registry);
        return EXIT_CONFIG;
    }
    if (globals->log_json >= 0)
        config->log_json = globals->log_json;
    if (globals->log_level >= 0)
        config->log_level = globals->log_level;
    globals->request.op = op;
    rc = compliance_cmd_run(config, registry, &globals->request, stdout, stderr);
    config_free(config);
    registry_free(registry);
    return rc;
}

static int command_erase(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "subject", required_argument, NULL, OPT_SUBJECT },
                                           { "dry-run", no_argument, NULL, OPT_DRY_RUN }, { 0 } };
    return compliance_command(argc, argv, globals, "erase", extra, COMPLIANCE_ERASE);
}

static int command_access(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "subject", required_argument, NULL, OPT_SUBJECT },
                                           { "out", required_argument, NULL, OPT_OUT }, { 0 } };
    return compliance_command(argc, argv, globals, "access", extra, COMPLIANCE_ACCESS);
}

static int command_restrict(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "subject", required_argument, NULL, OPT_SUBJECT }, { 0 } };
    return compliance_command(argc, argv, globals, "restrict", extra, COMPLIANCE_RESTRICT);
}

static int command_retention(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "now", no_argument, NULL, OPT_NOW }, { 0 } };
    return compliance_command(argc, argv, globals, "retention", extra, COMPLIANCE_RETENTION);
}

static int command_plugins(int argc, char **argv, cli_globals *globals)
{
    static const struct option extra[] = { { "json", no_argument, NULL, OPT_JSON }, { 0 } };
    const command *cmd = find_command("plugins");
    unsigned flags = 0;
    int first = 0;
    int rc = parse_command_options(argc, argv, cmd, extra, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    plugin_registry *registry = new_registry(globals);
    if (!registry)
        return EXIT_RUNTIME;
    rc = cli_plugins_print(registry, (flags & FLAG_JSON) != 0, (const char *const *)argv + first,
                           (size_t)(argc - first), stdout);
    registry_free(registry);
    return rc;
}

static int command_version(int argc, char **argv, cli_globals *globals)
{
    const command *cmd = find_command("version");
    unsigned flags = 0;
    int first = 0;
    int rc = parse_command_options(argc, argv, cmd, NULL, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (first != argc)
        return usage_error("version takes no arguments%s", "");
    printf("rdapsync %s (plugin ABI %d.%d)\n", RDAPSYNC_VERSION, RDAPSYNC_ABI_MAJOR, RDAPSYNC_ABI_MINOR);
    return EXIT_OK;
}

static int command_help(int argc, char **argv, cli_globals *globals)
{
    const command *cmd = find_command("help");
    unsigned flags = 0;
    int first = 0;
    int rc = parse_command_options(argc, argv, cmd, NULL, globals, &flags, &first);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if (first == argc) {
        print_usage(stdout);
        return EXIT_OK;
    }
    const command *topic = find_command(argv[first]);
    if (!topic || argc - first > 1) {
        char described[256];
        describe_unknown_command(argv[first], described, sizeof(described));
        return usage_error("no such command %s", described);
    }
    print_command_help(topic, stdout);
    return EXIT_OK;
}

int cli_main(int argc, char **argv)
{
    static const struct option options[] = { GLOBAL_LONG_OPTIONS, { "version", no_argument, NULL, 'V' }, { 0 } };
    cli_globals globals = { .log_json = -1, .log_level = -1 };
    optind = 0;
    opterr = 1;
    int option;
    /* '+': stop at the command; its own options are parsed by the command. */
    while ((option = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
        switch (option) {
        case 'h':
            print_usage(stdout);
            return EXIT_OK;
        case 'V':
            return command_version(1, (char *[]){ "version", NULL }, &globals);
        case '?':
            fprintf(stderr, "Try 'rdapsync --help'.\n");
            return EXIT_USAGE;
        default: {
            int rc = apply_global(option, optarg, &globals);
            if (rc)
                return rc;
        }
        }
    }
    if (optind >= argc) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const command *cmd = find_command(argv[optind]);
    if (!cmd) {
        char described[256];
        describe_unknown_command(argv[optind], described, sizeof(described));
        return usage_error("unknown command %s", described);
    }
    return cmd->run(argc - optind, argv + optind, &globals);
}
