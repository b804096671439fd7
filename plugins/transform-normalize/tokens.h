/*
 * One token form for RDAP's free-spelled values: status values, event
 * actions and roles become lower-case words joined by '_'
 * ("client delete prohibited", "clientDeleteProhibited" and
 * "Client-Delete-Prohibited" are all "client_delete_prohibited"). Status
 * values also get RFC 8056's EPP-to-RDAP mapping ("ok" -> "active",
 * "linked" -> "associated").
 */
#ifndef RDAPSYNC_TOKENS_H
#define RDAPSYNC_TOKENS_H

#include <stddef.h>

typedef enum token_kind { TOKEN_PLAIN = 0, TOKEN_STATUS = 1 } token_kind;

/*
 * Writes the token of the len bytes at s into buf (NUL-terminated) and
 * returns its length, which is at most len + len / 2 + 16 (callers size buf
 * so). Non-ASCII bytes are copied unchanged.
 */
size_t token_make(const char *s, size_t len, token_kind kind, char *buf, size_t size);

/* Room token_make() needs for an input of len bytes. */
static inline size_t token_room(size_t len)
{
    return len + len / 2 + 16;
}

#endif
