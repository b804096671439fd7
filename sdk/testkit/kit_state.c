/*
 * What the sink stored, through the test's hook, and how it compares with
 * what it should hold. Values are compared in canonical form (parsed, then
 * serialized with sorted keys), so formatting and member order never matter.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "testkit.h"

int kit_hook_load(kit_hook *hook, const char *path, char *err, size_t err_size)
{
    /* dlopen() searches the library path for a name without a slash. */
    char local[4096];
    if (!strchr(path, '/')) {
        snprintf(local, sizeof(local), "./%s", path);
        path = local;
    }
    hook->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!hook->handle) {
        snprintf(err, err_size, "%s", dlerror());
        return -1;
    }
    *(void **)&hook->reset = dlsym(hook->handle, RDAPSYNC_TESTKIT_RESET_SYMBOL);
    *(void **)&hook->readback = dlsym(hook->handle, RDAPSYNC_TESTKIT_READBACK_SYMBOL);
    if (!hook->reset || !hook->readback) {
        snprintf(err, err_size, "%s must export %s and %s", path, RDAPSYNC_TESTKIT_RESET_SYMBOL,
                 RDAPSYNC_TESTKIT_READBACK_SYMBOL);
        dlclose(hook->handle);
        hook->handle = NULL;
        return -1;
    }
    return 0;
}

void kit_hook_unload(kit_hook *hook)
{
    if (hook->handle)
        dlclose(hook->handle);
    hook->handle = NULL;
}

static int run_command(const kit_hook *hook, const char *cmd, char *err, size_t err_size)
{
    if (hook->arg)
        setenv("RDAPSYNC_TESTKIT_ARG", hook->arg, 1);
    int rc = kit_shell(cmd);
    if (rc != 0) {
        snprintf(err, err_size, "command failed (status %d): %s", rc, cmd);
        return -1;
    }
    return 0;
}

int kit_hook_reset(const kit_hook *hook, char *err, size_t err_size)
{
    err[0] = '\0';
    if (hook->reset)
        return hook->reset(hook->arg ? hook->arg : "", err, err_size) == 0 ? 0 : -1;
    if (hook->reset_cmd)
        return run_command(hook, hook->reset_cmd, err, err_size);
    snprintf(err, err_size, "no reset hook (give --hook or --reset-cmd)");
    return -1;
}

/* Canonical text of a JSON value; caller frees. */
static char *canonical(const rdapsync_value *value)
{
    const rdapsync_host *h = kit_host();
    char *text = h->json->dump(value, RDAPSYNC_DUMP_SORT_KEYS, NULL);
    char *copy = text ? strdup(text) : NULL;
    h->free(text);
    return copy;
}

static int parse_line(const char *line, size_t len, kit_state *out, char *err, size_t err_size)
{
    const rdapsync_json_api *json = kit_host()->json;
    char perr[256];
    rdapsync_value *obj = json->parse(line, len, perr, sizeof(perr));
    if (!obj) {
        snprintf(err, err_size, "read-back line is not JSON (%s): %.120s", perr, line);
        return -1;
    }
    const rdapsync_value *key = json->object_get(obj, "key");
    const rdapsync_value *value = json->object_get(obj, "value");
    if (json->type(key) != RDAPSYNC_JSON_STRING || !value) {
        snprintf(err, err_size, "read-back line needs a string \"key\" and a \"value\": %.120s", line);
        json->decref(obj);
        return -1;
    }
    char *text = canonical(value);
    if (!text) {
        json->decref(obj);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    kit_state_add(out, json->string_value(key), json->string_length(key), text);
    free(text);
    json->decref(obj);
    return 0;
}

static int read_lines(FILE *in, kit_state *out, char *err, size_t err_size)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0)
            continue;
        rc = parse_line(line, (size_t)len, out, err, err_size);
    }
    free(line);
    return rc;
}

int kit_hook_readback(const kit_hook *hook, kit_state *out, char *err, size_t err_size)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    if (hook->readback) {
        FILE *tmp = tmpfile();
        if (!tmp) {
            snprintf(err, err_size, "tmpfile failed");
            return -1;
        }
        if (hook->readback(hook->arg ? hook->arg : "", tmp, err, err_size) == 0) {
            rewind(tmp);
            rc = read_lines(tmp, out, err, err_size);
        } else if (!err[0]) {
            snprintf(err, err_size, "read-back hook failed without a reason");
        }
        fclose(tmp);
    } else if (hook->readback_cmd) {
        if (hook->arg)
            setenv("RDAPSYNC_TESTKIT_ARG", hook->arg, 1);
        pid_t pid;
        FILE *pipe = kit_shell_open(hook->readback_cmd, &pid);
        if (!pipe) {
            snprintf(err, err_size, "cannot run %s", hook->readback_cmd);
            return -1;
        }
        rc = read_lines(pipe, out, err, err_size);
        int status = kit_shell_close(pipe, pid);
        if (rc == 0 && status != 0) {
            snprintf(err, err_size, "read-back command failed (status %d)", status);
            rc = -1;
        }
    } else {
        snprintf(err, err_size, "no read-back hook (give --hook or --readback-cmd)");
    }
    if (rc != 0)
        kit_state_free(out);
    else
        kit_state_sort(out);
    return rc;
}

static void clip(const char *text, size_t len, char *out, size_t out_size)
{
    size_t n = len < out_size - 4 ? len : out_size - 4;
    memcpy(out, text, n);
    strcpy(out + n, n < len ? "..." : "");
}

static int key_cmp(const kit_entry *a, const kit_entry *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    return a->key_len == b->key_len ? 0 : (a->key_len < b->key_len ? -1 : 1);
}

/* Expected values are canonicalized the same way as read-back ones. */
static bool same_value(const char *expected, const char *actual)
{
    const rdapsync_host *h = kit_host();
    char perr[64];
    rdapsync_value *v = h->json->parse(expected, strlen(expected), perr, sizeof(perr));
    char *text = v ? canonical(v) : NULL;
    h->json->decref(v);
    bool same = text && strcmp(text, actual) == 0;
    free(text);
    return same;
}

bool kit_state_equal(const kit_state *expected, const kit_state *actual, char *why, size_t why_size)
{
    size_t i = 0, j = 0, shown = 0, used = 0;
    bool equal = true;
    char key[96], value[160];

    why[0] = '\0';
#define NOTE(...)                                                                               \
    do {                                                                                        \
        equal = false;                                                                          \
        if (shown++ < 4 && used < why_size)                                                     \
            used += (size_t)snprintf(why + used, why_size - used, "%s", used ? "; " : "");      \
        if (shown <= 4 && used < why_size)                                                      \
            used += (size_t)snprintf(why + used, why_size - used, __VA_ARGS__);                 \
    } while (0)

    for (size_t k = 1; k < actual->count; k++)
        if (key_cmp(&actual->items[k - 1], &actual->items[k]) == 0) {
            clip(actual->items[k].key, actual->items[k].key_len, key, sizeof(key));
            NOTE("key \"%s\" read back twice", key);
        }
    while (i < expected->count || j < actual->count) {
        int c = i == expected->count ? 1 : j == actual->count ? -1 : key_cmp(&expected->items[i], &actual->items[j]);
        if (c < 0) {
            clip(expected->items[i].key, expected->items[i].key_len, key, sizeof(key));
            NOTE("key \"%s\" missing", key);
            i++;
        } else if (c > 0) {
            clip(actual->items[j].key, actual->items[j].key_len, key, sizeof(key));
            NOTE("key \"%s\" should not be there", key);
            j++;
        } else {
            if (!same_value(expected->items[i].value, actual->items[j].value)) {
                clip(expected->items[i].key, expected->items[i].key_len, key, sizeof(key));
                clip(actual->items[j].value, strlen(actual->items[j].value), value, sizeof(value));
                NOTE("key \"%s\" holds a different value: %s", key, value);
            }
            i++, j++;
        }
    }
    if (shown > 4 && used < why_size)
        snprintf(why + used, why_size - used, "; and %zu more differences", shown - 4);
#undef NOTE
    return equal;
}
