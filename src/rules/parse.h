/* The rule-file parser's shared state and helpers (parse_*.c). */
#ifndef DT_RULES_PARSE_H
#define DT_RULES_PARSE_H

#include "rules/rules_internal.h"
#include "rules/yaml_tree.h"

enum { MAX_LABELS = 64 };

typedef struct parser {
    dt_arena *arena;
    const char *file;
    const char *text;
    size_t size;
    const rule_errors *errors;
    dt_status status;        /* DT_ERR_NOMEM or DT_ERR_LIMIT once hit */
    size_t error_count;
    /* The rule being parsed. */
    const analyzer_def *analyzer;
    size_t label_count;
    const char *labels[MAX_LABELS];
} parser;

/* Reports "message" at the node's position; always returns false. */
bool parse_error(parser *p, const ynode *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool parse_out_of_memory(parser *p, const ynode *node);
void *parse_alloc(parser *p, const ynode *node, size_t count, size_t size);

/* A mapping whose keys are all in `allowed` (NULL-terminated), each once,
 * with every key of `required` present. */
bool parse_check_keys(parser *p, const ynode *map, const char *what,
                      const char *const *allowed, const char *const *required);
/* The value of `key`, or NULL. */
const ynode *parse_map_get(const ynode *map, const char *key);
bool parse_expect(parser *p, const ynode *node, ynode_kind kind, const char *what);

bool parse_string(parser *p, const ynode *node, const char *what, const char **out);
bool parse_bool(parser *p, const ynode *node, const char *what, bool *out);
bool parse_u64(parser *p, const ynode *node, const char *what, uint64_t *out);
/* A string, or a sequence of strings: at least one, at most `max`. */
bool parse_string_list(parser *p, const ynode *node, const char *what, size_t max,
                       size_t *count, const char ***out);
/* A literal of `type` ("1GiB" for bytes, "5m" for a duration...). */
bool parse_literal(parser *p, const ynode *node, value_type type, rule_value *out);
/* The one operator key of `map` (eq, ne, lt, le, gt, ge, in, matches) with
 * its value, typed. `what` names the tested thing in errors. */
bool parse_comparison(parser *p, const ynode *map, value_type type, const char *what,
                      comparison *out);
bool parse_is_operator(const char *key);

bool parse_condition(parser *p, const ynode *node, size_t depth, condition *out);

#endif
