/* The built-in rule files, embedded at build time from the rules folder by
 * src/rules/embed_rules.cmake into builtin_rules.c. */
#ifndef DT_RULES_BUILTIN_H
#define DT_RULES_BUILTIN_H

#include <stddef.h>

#include "dumptriage/rules.h"
#include "rules/yaml_tree.h"

extern const dt_builtin_rule_file dt_builtin_rule_file_table[];
extern const size_t dt_builtin_rule_file_count;

/* Their YAML trees, in the same order, parsed at build time by
 * tools/embed_rule_trees.c into builtin_rule_trees.c. */
extern const ynode *const dt_builtin_rule_trees[];
extern const size_t dt_builtin_rule_tree_count;

#endif
