/*
 * A YAML document as a small tree that keeps every node's line and column,
 * so validation errors can point at the exact place. Built with libyaml.
 */
#ifndef RDAPSYNC_HOST_YAML_TREE_H
#define RDAPSYNC_HOST_YAML_TREE_H

#include <stddef.h>

#include "base/diag.h"

typedef enum yaml_node_kind { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING } yaml_node_kind;

typedef struct ynode ynode;
struct ynode {
    yaml_node_kind kind;
    int line;   /* 1-based */
    int column; /* 1-based */
    char *scalar;         /* SCALAR: owned, NUL-terminated */
    int quoted;           /* SCALAR: 1 if written quoted ("1" is a string) */
    ynode **items;        /* SEQUENCE: owned children; MAPPING: values */
    ynode **keys;         /* MAPPING: owned key nodes (scalars) */
    size_t count;
};

/* Parses `path`; on failure returns NULL and adds "file:line:column" errors.
 * Caller frees with ynode_free(). Only the first document is read.
 * A duplicate mapping key is reported as an error but the tree is still
 * returned (ynode_get() finds the first), so validation can go on and
 * report everything else; check diag_error_count(). Aliases are refused. */
ynode *yaml_tree_load(const char *path, diag_list *diags);
/* Same from memory (name is used in diagnostics). */
ynode *yaml_tree_load_buffer(const char *name, const char *text, size_t len, diag_list *diags);
void ynode_free(ynode *node);
/* MAPPING lookup; borrowed or NULL. */
const ynode *ynode_get(const ynode *map, const char *key);

#endif
