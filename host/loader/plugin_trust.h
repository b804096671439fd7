/*
 * Whether a plugin file may be dlopen()ed at all.
 *
 * dlopen() runs a library's constructors, so by the time the loader can
 * read a descriptor, the file's code has already run as rdapsync. The only
 * check that protects against a planted .so is one made on the file system
 * before dlopen(): the rule of sshd's StrictModes. The file and every
 * directory above it (after resolving symbolic links) must be owned by root
 * or by the effective user, and writable by no one else. A sticky directory
 * owned by root (/tmp) is accepted: nobody but an entry's owner can rename
 * or remove what is in it.
 */
#ifndef RDAPSYNC_HOST_PLUGIN_TRUST_H
#define RDAPSYNC_HOST_PLUGIN_TRUST_H

#include <stdbool.h>
#include <stddef.h>

/* 0 when `path` may be loaded. Otherwise -1 and a one-line reason in err
 * naming the file or directory at fault, its owner and mode, and the fix. */
int plugin_trust_check(const char *path, char *err, size_t err_size);

/* Process-wide, set once from the command line (--insecure-plugin-path)
 * before any plugin is loaded: refusals become warnings. */
void plugin_trust_set_insecure(bool insecure);
bool plugin_trust_insecure(void);

#endif
