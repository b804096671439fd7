/*
 * The configuration's top-level `otel:` block (config.c calls this):
 *
 *   otel:
 *     endpoint: http://127.0.0.1:4318   # OTLP/HTTP base URL; /v1/traces is appended
 *     service_name: rdapsync            # resource attribute service.name
 *     sample_ratio: 0.01                # share of records with a span of their own
 *     headers: { authorization: "${file:/run/secrets/otel-token}" }
 *
 * ${env:NAME} and ${file:PATH} work in every value; header values are
 * treated as secrets (masked in every log line and message).
 */
#include "config/otel_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/options.h"
#include "base/secrets.h"

static const char *const otel_keys[] = { "endpoint", "service_name", "sample_ratio", "headers", NULL };

static void report(diag_list *diags, const char *file, const ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(diag_list *diags, const char *file, const ynode *at, const char *fmt, ...)
{
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_add(diags, DIAG_ERROR, file, at ? at->line : 0, at ? at->column : 0, NULL, "otel: %s", message);
}

/* The scalar with its references expanded (caller frees), or NULL after
 * reporting. */
static char *expand(diag_list *diags, const char *file, const ynode *node, const char *what, bool secret)
{
    char *value = NULL, reason[512];
    bool had_reference = false;

    if (node->kind != YNODE_SCALAR || options_is_null(node) || !node->scalar[0]) {
        report(diags, file, node, "'%s' must be a non-empty string", what);
        return NULL;
    }
    if (secrets_expand(node->scalar, secret, &value, &had_reference, reason, sizeof(reason)) < 0) {
        report(diags, file, node, "'%s': %s", what, reason);
        return NULL;
    }
    if (secret)
        secrets_register(value);
    return value;
}

static void load_headers(diag_list *diags, const char *file, const ynode *map, otel_settings *out)
{
    if (map->kind != YNODE_MAPPING) {
        report(diags, file, map, "'headers' must be a mapping of header names to values");
        return;
    }
    out->header_names = calloc(map->count ? map->count : 1, sizeof(char *));
    out->header_values = calloc(map->count ? map->count : 1, sizeof(char *));
    if (!out->header_names || !out->header_values)
        return;
    for (size_t i = 0; i < map->count; i++) {
        const char *name = map->keys[i]->scalar;
        bool token = name[0] != '\0';
        for (const char *p = name; *p; p++)
            token = token && *p > ' ' && *p < 127 && *p != ':';
        if (!token) {
            report(diags, file, map->keys[i], "header name '%s' is not a valid HTTP header name", name);
            continue;
        }
        char *value = expand(diags, file, map->items[i], name, true);
        if (!value)
            continue;
        if (strpbrk(value, "\r\n")) {
            report(diags, file, map->items[i], "the value of header '%s' holds a line break", name);
            free(value);
            continue;
        }
        out->header_names[out->header_count] = strdup(name);
        out->header_values[out->header_count] = value;
        if (!out->header_names[out->header_count]) {
            free(value);
            continue;
        }
        out->header_count++;
    }
}

void otel_settings_free(otel_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->header_count; i++) {
        free(s->header_names[i]);
        free(s->header_values[i]);
    }
    free(s->header_names);
    free(s->header_values);
    free(s->endpoint);
    free(s->service_name);
    memset(s, 0, sizeof(*s));
}

void otel_config_load(const ynode *node, const char *file, diag_list *diags, otel_settings *out)
{
    memset(out, 0, sizeof(*out));
    out->sample_ratio = 0.01;
    if (!node || options_is_null(node))
        return;
    if (node->kind != YNODE_MAPPING) {
        report(diags, file, node, "'otel' must be a mapping with an 'endpoint'");
        return;
    }
    for (size_t i = 0; i < node->count; i++) {
        bool known = false;
        for (size_t k = 0; otel_keys[k]; k++)
            known = known || strcmp(otel_keys[k], node->keys[i]->scalar) == 0;
        if (!known)
            report(diags, file, node->keys[i], "unknown key '%s' in otel (expected one of: endpoint, service_name, "
                   "sample_ratio, headers)", node->keys[i]->scalar);
    }
    const ynode *endpoint = ynode_get(node, "endpoint");
    if (!endpoint) {
        report(diags, file, node, "missing required key 'endpoint' (e.g. http://127.0.0.1:4318)");
        return;
    }
    out->endpoint = expand(diags, file, endpoint, "endpoint", false);
    if (out->endpoint && strncmp(out->endpoint, "http://", 7) != 0 && strncmp(out->endpoint, "https://", 8) != 0) {
        report(diags, file, endpoint, "'endpoint' must be an http:// or https:// URL, got '%s'", out->endpoint);
        free(out->endpoint);
        out->endpoint = NULL;
    }
    const ynode *service = ynode_get(node, "service_name");
    if (service)
        out->service_name = expand(diags, file, service, "service_name", false);
    const ynode *ratio = ynode_get(node, "sample_ratio");
    if (ratio) {
        double value;
        if (ratio->kind != YNODE_SCALAR || options_parse_double(ratio->scalar, &value) < 0 || !(value >= 0.0) ||
            value > 1.0)
            report(diags, file, ratio, "'sample_ratio' must be a number from 0 to 1, got %s%s%s",
                   ratio->kind == YNODE_SCALAR ? "'" : "a collection", ratio->kind == YNODE_SCALAR ? ratio->scalar : "",
                   ratio->kind == YNODE_SCALAR ? "'" : "");
        else
            out->sample_ratio = value;
    }
    const ynode *headers = ynode_get(node, "headers");
    if (headers && !options_is_null(headers))
        load_headers(diags, file, headers, out);
}
