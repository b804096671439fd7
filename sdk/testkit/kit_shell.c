/*
 * The user's commands (--fail-cmd, --reset-cmd, --readback-cmd), run with
 * `sh -c` like system() and popen(), with one difference: SIGPIPE is back
 * at its default action in the command. The kit ignores SIGPIPE as the
 * host does (kit_main.c), and an ignored signal stays ignored across exec,
 * so without this a pipeline such as `producer | head -n 1` in a command
 * would see its producer fail with "Broken pipe" errors instead of ending
 * quietly.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kit.h"

extern char **environ;

/* Starts `sh -c cmd`; with `pipe_fds` its stdout is the write end
 * pipe_fds[1], and neither end stays open under its own number in the
 * child (the read end left open there would keep the command's writers
 * from ever seeing the kit stop reading). Returns the child's pid, or -1
 * with errno set. */
static pid_t spawn_shell(const char *cmd, const int *pipe_fds)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    sigset_t defaults;
    pid_t pid = -1;
    int rc;

    char *const argv[] = { "sh", "-c", (char *)cmd, NULL };
    if ((rc = posix_spawnattr_init(&attr)) != 0) {
        errno = rc;
        return -1;
    }
    if ((rc = posix_spawn_file_actions_init(&actions)) != 0) {
        posix_spawnattr_destroy(&attr);
        errno = rc;
        return -1;
    }
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    rc = posix_spawnattr_setsigdefault(&attr, &defaults);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    if (rc == 0 && pipe_fds)
        rc = posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    if (rc == 0 && pipe_fds)
        rc = posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    if (rc == 0 && pipe_fds && pipe_fds[1] != STDOUT_FILENO)
        rc = posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
    if (rc == 0)
        rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int kit_shell(const char *cmd)
{
    fflush(stdout); /* the command's output comes after ours */
    pid_t pid = spawn_shell(cmd, NULL);
    return pid < 0 ? -1 : wait_for(pid);
}

FILE *kit_shell_open(const char *cmd, pid_t *pid)
{
    int fds[2];

    fflush(stdout);
    if (pipe(fds) != 0)
        return NULL;
    *pid = spawn_shell(cmd, fds);
    close(fds[1]);
    if (*pid < 0) {
        close(fds[0]);
        return NULL;
    }
    FILE *out = fdopen(fds[0], "r");
    if (!out) {
        close(fds[0]);
        wait_for(*pid);
    }
    return out;
}

int kit_shell_close(FILE *out, pid_t pid)
{
    fclose(out);
    return wait_for(pid);
}
