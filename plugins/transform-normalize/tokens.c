#include "tokens.h"

#include <stdbool.h>
#include <string.h>

static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_separator(char c) { return c == ' ' || c == '-' || c == '_' || c == '\t' || c == '.' || c == '/'; }

/* RFC 8056 names whose RDAP form is not just the split EPP name. */
static const char *const epp_renames[][2] = {
    {"ok", "active"},
    {"linked", "associated"},
};

size_t token_make(const char *s, size_t len, token_kind kind, char *buf, size_t size)
{
    size_t n = 0;
    bool pending_sep = false;

    if (size == 0)
        return 0;
    for (size_t i = 0; i < len && n + 2 < size; i++) {
        char c = s[i];
        if (is_separator(c)) {
            pending_sep = n > 0;
            continue;
        }
        /* camelCase: a capital after a lower-case letter or digit starts a word. */
        if (is_upper(c) && i > 0 && is_lower_or_digit(s[i - 1]))
            pending_sep = n > 0;
        if (pending_sep) {
            buf[n++] = '_';
            pending_sep = false;
            if (n + 2 >= size)
                break;
        }
        buf[n++] = is_upper(c) ? (char)(c - 'A' + 'a') : c;
    }
    buf[n] = '\0';
    if (kind == TOKEN_STATUS) {
        for (size_t i = 0; i < sizeof epp_renames / sizeof epp_renames[0]; i++) {
            if (strcmp(buf, epp_renames[i][0]) == 0) {
                size_t m = strlen(epp_renames[i][1]);
                if (m + 1 <= size) {
                    memcpy(buf, epp_renames[i][1], m + 1);
                    n = m;
                }
                break;
            }
        }
    }
    return n;
}
