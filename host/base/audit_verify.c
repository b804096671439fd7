/* Checking an audit trail (audit_verify.h). */
#include "base/audit_verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Why line `n` (len bytes, newline removed) is bad, or NULL. Moves *prev
 * and *seq on when it is good. */
static const char *check_line(const char *line, size_t len, int64_t n, char prev[AUDIT_HASH_HEX],
                              audit_key *key, audit_verdict *out)
{
    const char *why = NULL;
    char hash[AUDIT_HASH_HEX];
    long end = audit_entry_end(line, len);
    json_t *obj = json_loadb(line, len, 0, NULL);
    json_t *seq = json_object_get(obj, "seq"), *p = json_object_get(obj, "prev");
    json_t *h = json_object_get(obj, "hash"), *sig = json_object_get(obj, "sig");
    char *entry = NULL;

    if (!json_is_object(obj) || end < 0 || !json_is_integer(seq) || !json_is_string(p) || !json_is_string(h)) {
        why = "not a trail line (edited or inserted)";
        goto done;
    }
    if (!(entry = malloc((size_t)end + 2))) {
        why = "out of memory";
        goto done;
    }
    memcpy(entry, line, (size_t)end);
    entry[end] = '}';
    if (audit_chain_hash(json_string_value(p), entry, (size_t)end + 1, hash) < 0 ||
        strcmp(hash, json_string_value(h)) != 0)
        why = "its hash does not match its content (edited)";
    else if (strcmp(json_string_value(p), prev) != 0)
        why = "it does not follow the line before (a line deleted, inserted or reordered)";
    else if (json_integer_value(seq) != n)
        why = "its sequence number is out of place (a line deleted, inserted or reordered)";
    else if (key && !json_is_string(sig))
        why = "it carries no signature";
    else if (key && !audit_signature_ok(key, hash, json_string_value(sig)))
        why = "its signature does not verify";
    if (!why) {
        memcpy(prev, hash, AUDIT_HASH_HEX);
        if (key)
            out->signed_lines++;
    }
done:
    free(entry);
    json_decref(obj);
    return why;
}

int audit_verify_file(const char *path, audit_key *public_key, audit_verdict *out)
{
    char prev[AUDIT_HASH_HEX] = AUDIT_GENESIS;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    FILE *f = fopen(path, "r");

    memset(out, 0, sizeof(*out));
    memcpy(out->head, prev, sizeof(prev));
    if (!f) {
        snprintf(out->reason, sizeof(out->reason), "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        int64_t n = out->lines + 1;
        const char *why = NULL;
        if (line[len - 1] != '\n')
            why = "it is incomplete (a write cut short; the next append removes it)";
        else
            why = check_line(line, (size_t)len - 1, n, prev, public_key, out);
        if (why) {
            out->bad_line = n;
            snprintf(out->reason, sizeof(out->reason), "%s", why);
            break;
        }
        out->lines = n;
        memcpy(out->head, prev, sizeof(prev));
    }
    free(line);
    fclose(f);
    return out->bad_line ? 1 : 0;
}
