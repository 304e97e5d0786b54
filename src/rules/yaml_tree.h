/*
 * A YAML document read through libyaml's event API into a small tree of
 * scalars, mappings and sequences with their positions. Anchors, aliases,
 * tags and second documents are refused; depth, node count and scalar
 * length are capped, so a hostile file cannot make the tree large.
 */
#ifndef DT_RULES_YAML_TREE_H
#define DT_RULES_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "rules/rules_internal.h"

typedef enum ynode_kind { YNODE_SCALAR = 0, YNODE_MAP, YNODE_SEQ } ynode_kind;

typedef struct ynode {
    ynode_kind kind;
    rule_pos pos;
    size_t start;            /* byte offsets of the node in the text */
    size_t end;
    const char *text;        /* scalars: NUL-terminated */
    size_t length;
    bool plain;              /* an unquoted scalar */
    size_t count;            /* mappings: pairs; sequences: items */
    struct ynode *first;     /* mappings: key, value, key, value... */
    struct ynode *last;
    struct ynode *next;
} ynode;

enum { YAML_MAX_DEPTH = 64, YAML_MAX_NODES = 1000000 };

/* Parses `text`. On failure returns NULL with *status set and a message
 * and position in `error`/`pos`; *status is DT_ERR_NOMEM when out of memory. */
const ynode *yaml_tree_parse(dt_arena *arena, const char *text, size_t size, dt_status *status,
                             char *error, size_t error_size, rule_pos *pos);

#endif
