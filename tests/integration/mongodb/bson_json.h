/*
 * Stored MongoDB documents back to JSON text, for the tests' read-back
 * hook and exporter: the inverse of the sink's conversion (int32/int64 as
 * integers, doubles as reals, arrays wrapped as {"_array": [...]} and
 * escaped {"_array": {...}} objects unwrapped; docs/plugins/sink-mongodb.md).
 */
#ifndef RDAPSYNC_TESTS_MONGODB_BSON_JSON_H
#define RDAPSYNC_TESTS_MONGODB_BSON_JSON_H

#include <stdio.h>

#include <bson/bson.h>

/* Writes the value `it` points at. Returns 0, or -1 for a BSON type the
 * sink never writes (with the type in err). */
int bson_json_write_value(FILE *out, const bson_iter_t *it, char *err, size_t err_size);
/* Writes bytes as a JSON string (quotes included). */
void bson_json_write_string(FILE *out, const char *s, size_t len);

#endif
