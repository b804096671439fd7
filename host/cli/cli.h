/*
 * The command line: `rdapsync [GLOBAL OPTIONS] COMMAND [ARGS]` with the
 * commands run, validate, plugins, version and help. Exit codes are the
 * ones of runtime.h (EXIT_USAGE for a bad command line, EXIT_CONFIG for an
 * invalid configuration).
 */
#ifndef RDAPSYNC_HOST_CLI_H
#define RDAPSYNC_HOST_CLI_H

/* Parses argv, runs the command and returns the process exit code. Writes
 * results to stdout and diagnostics to stderr. */
int cli_main(int argc, char **argv);

#endif
