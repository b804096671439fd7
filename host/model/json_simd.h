/*
 * The C side of the simdjson shim (json_simd.cpp): one JSON text parsed by
 * simdjson's DOM parser, handed over as simdjson's tape. simdjson does the
 * lexing and most refusals (UTF-8, escapes, lone surrogates, the number
 * grammar, integers below INT64_MIN or above UINT64_MAX, trailing garbage)
 * at SIMD speed; what the SDK refuses beyond it is checked on the tape
 * (json_lazy.c), one linear pass with no call per value.
 *
 * The tape (simdjson's doc/tape.md; its layout has not changed since 0.3):
 * one 64-bit word per value, the type character in the top byte, a 56-bit
 * payload below.
 *   'r'  root (first and last word); the first one's payload is the index
 *        after the last one
 *   '{' '['  payload: bits 0-31 the index after the matching close, bits
 *        32-55 the member or item count (saturated at 0xFFFFFF)
 *   '}' ']'  payload: the index of the matching open
 *   '"'  payload: offset into the string buffer, where a 32-bit length
 *        (little-endian) precedes the decoded bytes; in objects keys and
 *        values alternate
 *   'l' 'u' 'd'  the next word holds the int64, uint64 or double
 *   't' 'f' 'n'  true, false, null
 * The shim checks this layout on a probe text once per process: where it
 * does not hold, jsimd_parse reports JSIMD_UNAVAILABLE and the host keeps
 * to its tree parser.
 */
#ifndef RDAPSYNC_HOST_JSON_SIMD_H
#define RDAPSYNC_HOST_JSON_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JSIMD_TYPE(word) ((unsigned char)((word) >> 56))
#define JSIMD_PAYLOAD(word) ((word) & 0x00FFFFFFFFFFFFFFull)
#define JSIMD_COUNT(word) ((size_t)(((word) >> 32) & 0xFFFFFF))
#define JSIMD_COUNT_SATURATED 0xFFFFFF
/* Index of the closing root word: values lie in [1, JSIMD_END(tape)). */
#define JSIMD_END(tape) ((size_t)JSIMD_PAYLOAD((tape)[0]) - 1)

/* A parsed text: valid until the next parse on the same thread. */
typedef struct jsimd_tape {
    const uint64_t *tape;
    const uint8_t *strings;
} jsimd_tape;

#define JSIMD_OK 0
#define JSIMD_REFUSED 1 /* simdjson refused the text, or it nests deeper than JSIMD_MAX_DEPTH */
#define JSIMD_NO_MEMORY 2
#define JSIMD_UNAVAILABLE 3 /* the tape is not laid out as expected */

/* Deeper texts are refused by simdjson itself (the SDK's limit, 512, is
 * checked on the tape). */
#define JSIMD_MAX_DEPTH 520

/* Bytes that must be readable (any value) after the text for an in-place
 * parse: text must point to len + jsimd_padding() readable bytes. */
size_t jsimd_padding(void);

/* Parses text[0..len) with this thread's parser (its buffers are kept for
 * the next text). `padded`: the padding bytes are readable, so simdjson
 * reads the text in place instead of copying it. *ticket identifies this
 * parse for jsimd_reparse (may be NULL). */
int jsimd_parse(const char *text, size_t len, int padded, jsimd_tape *out, uint32_t *ticket);

/* The tape of a padded text that jsimd_parse gave `ticket` for: on the same
 * thread with nothing parsed since, the parser still holds it and this
 * costs nothing; anywhere else the text is parsed again. */
int jsimd_reparse(const char *text, size_t len, uint32_t ticket, jsimd_tape *out);

/* Frees this thread's parser (its buffers grow to the largest text seen). */
void jsimd_thread_release(void);

#ifdef __cplusplus
}
#endif

#endif
