/* Strict base64 (RFC 4648, padded) on OpenSSL's EVP block coder. */
#ifndef RDAPSYNC_CRYPT_B64_H
#define RDAPSYNC_CRYPT_B64_H

#include <stddef.h>

/* Characters b64_encode writes for n bytes, with the NUL. */
#define B64_ENCODED_SIZE(n) ((((n) + 2) / 3) * 4 + 1)

/* Encodes n bytes into out (B64_ENCODED_SIZE(n) bytes); returns the length. */
size_t b64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes `len` characters into out (room bytes); *n gets the byte count.
 * -1 for anything but canonical padded base64 or too little room. */
int b64_decode(const char *in, size_t len, unsigned char *out, size_t room, size_t *n);

#endif
