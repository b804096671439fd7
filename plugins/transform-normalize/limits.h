/*
 * The sanity limits a document must meet before a transform reads it: no
 * nesting deeper than max_depth, no string (or member name) longer than
 * max_string bytes. The parser already refuses invalid UTF-8 and nesting
 * beyond 512; these are the tighter limits of an RDAP response, checked in
 * one bounded walk so later code may recurse without fear.
 */
#ifndef RDAPSYNC_LIMITS_H
#define RDAPSYNC_LIMITS_H

#include <stddef.h>

#include <rdapsync/rdapsync.h>

/* 0 when `doc` is within the limits; else -1 and err gets "PATH: reason".
 * max_string 0 means no string limit. */
int limits_check(const rdapsync_json_api *json, const rdapsync_value *doc, int max_depth, size_t max_string,
                 char *err, size_t err_size);

#endif
