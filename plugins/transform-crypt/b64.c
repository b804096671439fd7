#include "b64.h"

#include <limits.h>
#include <openssl/evp.h>

size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int b64_decode(const char *in, size_t len, unsigned char *out, size_t room, size_t *n)
{
    size_t pad = 0;
    int decoded;

    /* EVP_DecodeBlock skips blanks and counts padding as bytes: check the
     * alphabet and the padding here, so one text has one meaning. */
    if (len % 4 != 0 || len > (size_t)INT_MAX)
        return -1;
    if (len >= 1 && in[len - 1] == '=')
        pad = len >= 2 && in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char(in[i]))
            return -1;
    if (len / 4 * 3 > room)
        return -1;
    if (len == 0) {
        *n = 0;
        return 0;
    }
    decoded = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (decoded < 0 || (size_t)decoded < pad)
        return -1;
    *n = (size_t)decoded - pad;
    return 0;
}
