/*
 * libFuzzer target: any bytes through the lazy path (simdjson validation)
 * and the tree parser (yajl) side by side. They must give the same verdict
 * and message, and the same dump; a validated text offered to sinks must be
 * that dump byte for byte (tests/unit/json/lazy_diff.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lazy_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];

    if (lazy_diff((const char *)data, size, why, sizeof(why)) != 0) {
        fprintf(stderr, "lazy and tree parsers disagree: %s\n", why);
        abort();
    }
    return 0;
}
