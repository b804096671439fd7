/*
 * libFuzzer target: any bytes through the host's parser, then normalize's
 * envelope reader and RDAP -> unified conversion. Crashes, sanitizer
 * reports and broken invariants (an output without its schema stamp, an
 * error without a JSON path) are findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "json_api.h"
#include "unified.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const rdapsync_json_api *j = json_api_table();
    char err[512];
    rdapsync_value *doc = j->parse((const char *)data, size, err, sizeof err);
    rdapsync_value *input, *out;
    envelope env;
    unified_options options = {.keep_raw = size % 2 == 1, .max_depth = 32, .max_string = 4096};

    if (!doc)
        return 0;
    input = doc;
    if (envelope_read(j, doc, &env, err, sizeof err) == 0 && env.present && env.value)
        input = env.value;
    out = unified_build(j, input, &options, NULL, err, sizeof err);
    if (out) {
        const char *schema = j->string_value(j->object_get(j->object_get(out, "rdapsync"), "schema"));
        if (!schema || strcmp(schema, UNIFIED_SCHEMA) != 0)
            abort();
        char *text = j->dump(out, 0, NULL);
        free(text);
        j->decref(out);
    } else if (err[0] != '$') {
        fprintf(stderr, "error without a JSON path: %s\n", err);
        abort();
    }
    j->decref(doc);
    return 0;
}
