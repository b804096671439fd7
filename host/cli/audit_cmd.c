/* `rdapsync audit verify` (audit_cmd.h). */
#include "cli/audit_cmd.h"

#include "base/audit_verify.h"
#include "runtime/runtime.h"

int audit_cmd_verify(const char *file, const char *public_key_pem, FILE *out, FILE *err)
{
    char reason[512];
    audit_key *key = NULL;
    audit_verdict v;

    if (public_key_pem && !(key = audit_key_load(public_key_pem, false, reason, sizeof(reason)))) {
        fprintf(err, "rdapsync audit verify: %s\n", reason);
        return EXIT_RUNTIME;
    }
    int rc = audit_verify_file(file, key, &v);
    audit_key_free(key);
    if (rc < 0) {
        fprintf(err, "rdapsync audit verify: %s\n", v.reason);
        return EXIT_RUNTIME;
    }
    if (rc > 0) {
        fprintf(err, "%s:%lld: bad line: %s (the %lld line%s before it verify)\n", file, (long long)v.bad_line,
                v.reason, (long long)v.lines, v.lines == 1 ? "" : "s");
        return EXIT_TASK_FAILED;
    }
    fprintf(out, "%s: ok (%lld line%s, head %s%s)\n", file, (long long)v.lines, v.lines == 1 ? "" : "s", v.head,
            public_key_pem ? ", every line signed" : ", signatures not checked");
    return EXIT_OK;
}
