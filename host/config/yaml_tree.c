/* libyaml events -> ynode tree with 1-based line/column on every node. */
#include "config/yaml_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* Deeper nesting than this is hostile input, not configuration. */
#define YAML_TREE_MAX_DEPTH 64

typedef struct tree_parser {
    yaml_parser_t parser;
    const char *name;
    diag_list *diags;
    int failed; /* a syntax error: the tree is not usable */
} tree_parser;

static ynode *node_new(yaml_node_kind kind, const yaml_mark_t *mark)
{
    ynode *node = calloc(1, sizeof(*node));
    if (!node)
        return NULL;
    node->kind = kind;
    node->line = (int)mark->line + 1;
    node->column = (int)mark->column + 1;
    return node;
}

void ynode_free(ynode *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->count; i++) {
        ynode_free(node->items[i]);
        if (node->keys)
            ynode_free(node->keys[i]);
    }
    free(node->items);
    free(node->keys);
    free(node->scalar);
    free(node);
}

/* Appends a child (and its key for mappings); takes ownership of both. */
static int node_append(ynode *parent, ynode *key, ynode *value)
{
    ynode **items = realloc(parent->items, (parent->count + 1) * sizeof(*items));
    if (!items)
        return -1;
    parent->items = items;
    if (parent->kind == YNODE_MAPPING) {
        ynode **keys = realloc(parent->keys, (parent->count + 1) * sizeof(*keys));
        if (!keys)
            return -1;
        parent->keys = keys;
        parent->keys[parent->count] = key;
    }
    parent->items[parent->count++] = value;
    return 0;
}

static void parser_error(tree_parser *tp, const yaml_mark_t *mark, const char *fmt, const char *detail)
{
    char message[256];
    snprintf(message, sizeof(message), fmt, detail ? detail : "");
    diag_add(tp->diags, DIAG_ERROR, tp->name, (int)mark->line + 1, (int)mark->column + 1, NULL, "%s", message);
    tp->failed = 1;
}

static int next_event(tree_parser *tp, yaml_event_t *event)
{
    if (yaml_parser_parse(&tp->parser, event))
        return 0;
    const yaml_mark_t *mark = tp->parser.problem_mark.line || tp->parser.problem_mark.column
                                  ? &tp->parser.problem_mark
                                  : &tp->parser.context_mark;
    char detail[256];
    snprintf(detail, sizeof(detail), "%s%s%s", tp->parser.problem ? tp->parser.problem : "syntax error",
             tp->parser.context ? " " : "", tp->parser.context ? tp->parser.context : "");
    parser_error(tp, mark, "invalid YAML: %s", detail);
    return -1;
}

static ynode *parse_node(tree_parser *tp, yaml_event_t *event, int depth);

/* Reads children until the end event of a sequence or mapping. */
static int parse_children(tree_parser *tp, ynode *parent, int depth)
{
    for (;;) {
        yaml_event_t event;
        if (next_event(tp, &event) < 0)
            return -1;
        if (event.type == YAML_SEQUENCE_END_EVENT || event.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&event);
            return 0;
        }
        ynode *key = NULL;
        if (parent->kind == YNODE_MAPPING) {
            key = parse_node(tp, &event, depth + 1);
            if (!key)
                return -1;
            if (key->kind != YNODE_SCALAR) {
                parser_error(tp, &(yaml_mark_t){ .line = (size_t)key->line - 1, .column = (size_t)key->column - 1 },
                             "mapping keys must be scalars%s", NULL);
                ynode_free(key);
                return -1;
            }
            if (ynode_get(parent, key->scalar)) {
                const ynode *first = NULL;
                for (size_t i = 0; i < parent->count && !first; i++)
                    if (strcmp(parent->keys[i]->scalar, key->scalar) == 0)
                        first = parent->keys[i];
                diag_add(tp->diags, DIAG_ERROR, tp->name, key->line, key->column, NULL,
                         "duplicate key '%s' (first at line %d, column %d)", key->scalar, first->line,
                         first->column);
            }
            if (next_event(tp, &event) < 0) {
                ynode_free(key);
                return -1;
            }
        }
        ynode *value = parse_node(tp, &event, depth + 1);
        if (!value || node_append(parent, key, value) < 0) {
            ynode_free(key);
            ynode_free(value);
            return -1;
        }
    }
}

/* Builds the node that starts with `event` (consumed). NULL on error. */
static ynode *parse_node(tree_parser *tp, yaml_event_t *event, int depth)
{
    ynode *node = NULL;
    yaml_mark_t mark = event->start_mark;
    if (depth > YAML_TREE_MAX_DEPTH) {
        parser_error(tp, &mark, "nesting deeper than %s levels", "64");
        goto out;
    }
    switch (event->type) {
    case YAML_SCALAR_EVENT:
        node = node_new(YNODE_SCALAR, &mark);
        if (!node)
            break;
        node->scalar = strndup((const char *)event->data.scalar.value, event->data.scalar.length);
        node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (!node->scalar || strlen(node->scalar) != event->data.scalar.length) {
            parser_error(tp, &mark, "scalar contains a NUL character%s", NULL);
            ynode_free(node);
            node = NULL;
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        node = node_new(event->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE : YNODE_MAPPING, &mark);
        if (node && parse_children(tp, node, depth) < 0) {
            ynode_free(node);
            node = NULL;
        }
        break;
    case YAML_ALIAS_EVENT:
        parser_error(tp, &mark, "YAML aliases (*%s) are not supported: write the value out",
                     (const char *)event->data.alias.anchor);
        break;
    default:
        parser_error(tp, &mark, "unexpected YAML event%s", NULL);
        break;
    }
out:
    yaml_event_delete(event);
    if (!node && !tp->failed)
        parser_error(tp, &mark, "out of memory%s", NULL);
    return node;
}

/* Skips stream/document start events and parses the first document's root. */
static ynode *parse_document(tree_parser *tp)
{
    for (;;) {
        yaml_event_t event;
        if (next_event(tp, &event) < 0)
            return NULL;
        switch (event.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
            yaml_event_delete(&event);
            continue;
        case YAML_STREAM_END_EVENT:
            parser_error(tp, &event.start_mark, "the file is empty%s", NULL);
            yaml_event_delete(&event);
            return NULL;
        default:
            return parse_node(tp, &event, 0);
        }
    }
}

ynode *yaml_tree_load_buffer(const char *name, const char *text, size_t len, diag_list *diags)
{
    tree_parser tp = { .name = name, .diags = diags };
    if (!yaml_parser_initialize(&tp.parser)) {
        diag_add(diags, DIAG_ERROR, name, 0, 0, NULL, "cannot initialise the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&tp.parser, (const unsigned char *)text, len);
    ynode *root = parse_document(&tp);
    yaml_parser_delete(&tp.parser);
    if (tp.failed) {
        ynode_free(root);
        return NULL;
    }
    return root;
}

ynode *yaml_tree_load(const char *path, diag_list *diags)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot open the file: %s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, capacity = 0;
    for (;;) {
        if (len == capacity) {
            capacity = capacity ? capacity * 2 : 8192;
            char *grown = realloc(text, capacity);
            if (!grown) {
                diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "out of memory reading the file");
                free(text);
                fclose(file);
                return NULL;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, capacity - len, file);
        len += got;
        if (got == 0)
            break;
    }
    int read_failed = ferror(file);
    fclose(file);
    ynode *root = NULL;
    if (read_failed)
        diag_add(diags, DIAG_ERROR, path, 0, 0, NULL, "cannot read the file");
    else
        root = yaml_tree_load_buffer(path, text, len, diags);
    free(text);
    return root;
}

const ynode *ynode_get(const ynode *map, const char *key)
{
    if (!map || map->kind != YNODE_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0)
            return map->items[i];
    return NULL;
}
