/*
 * The C side of the simdjson shim (json_simd.cpp): one JSON text parsed by
 * simdjson's DOM parser, then walked in document order as events. simdjson
 * does the lexing and most refusals (UTF-8, escapes, lone surrogates, the
 * number grammar, integers below INT64_MIN or above UINT64_MAX, trailing
 * garbage) at SIMD speed; what the SDK refuses beyond it (json_lazy.c) is
 * checked on the events.
 */
#ifndef RDAPSYNC_HOST_JSON_SIMD_H
#define RDAPSYNC_HOST_JSON_SIMD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum jsimd_scalar { JSIMD_NULL, JSIMD_TRUE, JSIMD_FALSE, JSIMD_INT, JSIMD_UINT, JSIMD_REAL, JSIMD_STRING };

/* What a walk reports. Each callback returns 0 to go on, non-zero to stop
 * the walk (jsimd_walk then returns JSIMD_STOPPED). Strings are decoded
 * (escapes resolved), not NUL-terminated, and valid during the callback. */
typedef struct jsimd_events {
    int (*scalar)(void *ctx, enum jsimd_scalar kind, int64_t i, double d, const char *s, size_t len);
    int (*key)(void *ctx, const char *s, size_t len);
    int (*open)(void *ctx, int is_object, size_t count); /* count: members or items */
    int (*close)(void *ctx, int is_object);
} jsimd_events;

#define JSIMD_OK 0
#define JSIMD_REFUSED 1 /* simdjson refused the text, or it nests deeper than JSIMD_MAX_DEPTH */
#define JSIMD_STOPPED 2 /* a callback stopped the walk */
#define JSIMD_NO_MEMORY 3

/* Deeper texts are refused by simdjson itself (the SDK's limit, 512, is
 * checked on the events: this only bounds the walk's recursion). */
#define JSIMD_MAX_DEPTH 520

/* Bytes that must be readable (any value) after the text for an in-place
 * parse: text must point to len + jsimd_padding() readable bytes. */
size_t jsimd_padding(void);

/* Parses text[0..len) with this thread's parser and walks it. `padded`:
 * the padding bytes are readable, so simdjson reads the text in place
 * instead of copying it. *ticket identifies this parse for
 * jsimd_walk_again (may be NULL). */
int jsimd_walk(const char *text, size_t len, int padded, const jsimd_events *events, void *ctx, uint32_t *ticket);

/* Walks a text that jsimd_walk parsed (padded) and gave `ticket` for: on the
 * same thread with nothing parsed since, the parser still holds its DOM and
 * the walk costs no parse; anywhere else the text is parsed again. */
int jsimd_walk_again(const char *text, size_t len, uint32_t ticket, const jsimd_events *events, void *ctx);

/* Frees this thread's parser (its buffers grow to the largest text seen). */
void jsimd_thread_release(void);

#ifdef __cplusplus
}
#endif

#endif
