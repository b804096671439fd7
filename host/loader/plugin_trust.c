/* The file-system check made before a plugin is dlopen()ed (plugin_trust.h). */
#include "loader/plugin_trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool insecure_allowed;

void plugin_trust_set_insecure(bool insecure) { insecure_allowed = insecure; }

bool plugin_trust_insecure(void) { return insecure_allowed; }

static const char *who_may_write(mode_t mode)
{
    if ((mode & S_IWGRP) && (mode & S_IWOTH))
        return "its group and everyone";
    return (mode & S_IWOTH) ? "everyone" : "its group";
}

/* One path element: `what` is "plugin" or "directory". */
static int check_one(const char *path, const char *what, const char *plugin, char *err, size_t err_size)
{
    struct stat st;
    uid_t me = geteuid();

    if (stat(path, &st) != 0) {
        snprintf(err, err_size, "%s: cannot check %s %s: %s", plugin, what, path, strerror(errno));
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != me) {
        snprintf(err, err_size,
                 "%s: refused before loading: %s %s is owned by uid %u, neither root nor the user running rdapsync "
                 "(uid %u); anyone who owns it can replace the plugin (or pass --insecure-plugin-path)",
                 plugin, what, path, (unsigned)st.st_uid, (unsigned)me);
        return -1;
    }
    if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
        return 0;
    if (S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && st.st_uid == 0)
        return 0;
    snprintf(err, err_size,
             "%s: refused before loading: %s %s (mode %04o) is writable by %s, so another user could plant or replace "
             "a plugin; run 'chmod go-w %s' (or pass --insecure-plugin-path)",
             plugin, what, path, (unsigned)(st.st_mode & 07777), who_may_write(st.st_mode), path);
    return -1;
}

int plugin_trust_check(const char *path, char *err, size_t err_size)
{
    char resolved[PATH_MAX];

    if (!realpath(path, resolved)) {
        snprintf(err, err_size, "%s: cannot load: %s", path, strerror(errno));
        return -1;
    }
    if (check_one(resolved, "plugin", path, err, err_size) != 0)
        return -1;
    /* Every directory up to "/", nearest first: the nearest is the one most
     * likely at fault, and the one the message should name. */
    for (char *slash = strrchr(resolved, '/'); slash; slash = strrchr(resolved, '/')) {
        if (slash == resolved) {
            resolved[1] = '\0';
            return check_one(resolved, "directory", path, err, err_size);
        }
        *slash = '\0';
        if (check_one(resolved, "directory", path, err, err_size) != 0)
            return -1;
    }
    return 0;
}
