/*
 * A key as a JSON string, escaped exactly as the host's serializer does
 * (host/json_dump.c), so hand-built documents and host-built ones agree
 * byte for byte.
 */
#include <rdapsync/sinktk.h>

int rdapsync_sinktk_json_string(const char *bytes, size_t len, rdapsync_dump_fn fn, void *opaque)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;

    if (fn("\"", 1, opaque) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            n = 6;
        }
        if ((i > run && fn(bytes + run, i - run, opaque) != 0) || fn(esc, n, opaque) != 0)
            return -1;
        run = i + 1;
    }
    if ((len > run && fn(bytes + run, len - run, opaque) != 0) || fn("\"", 1, opaque) != 0)
        return -1;
    return 0;
}
