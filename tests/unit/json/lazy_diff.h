/*
 * The lazy path against the tree parser on one text: shared by the unit
 * tests and the fuzz target (tests/fuzz/fuzz_json.c).
 */
#ifndef RDAPSYNC_TEST_LAZY_DIFF_H
#define RDAPSYNC_TEST_LAZY_DIFF_H

#include <stddef.h>

/* 0 when jl_parse() and jt_parse() agree on text: the same refusal with the
 * same message, or values whose dumps (plain and sorted) are identical,
 * where the lazy value's validated text, if it offers one, is that dump
 * byte for byte, stays offered once the tree is built for reading and is
 * withdrawn at the first change, and where the tree built equals the
 * parser's. -1 otherwise, with what differed in why. Frees everything it
 * made. */
int lazy_diff(const char *text, size_t len, char *why, size_t why_size);

#endif
