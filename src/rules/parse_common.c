/* Rule-file parsing helpers: errors, keys, scalars, typed literals. */
#include "rules/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool parse_error(parser *p, const ynode *node, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    rule_pos pos = node ? node->pos : (rule_pos){1, 1};
    p->error_count++;
    p->errors->report(p->errors->context, p->file, pos, message);
    return false;
}

bool parse_out_of_memory(parser *p, const ynode *node)
{
    p->status = DT_ERR_NOMEM;
    return parse_error(p, node, "out of memory");
}

void *parse_alloc(parser *p, const ynode *node, size_t count, size_t size)
{
    void *memory = dt_arena_array(p->arena, count ? count : 1, size);
    if (!memory)
        parse_out_of_memory(p, node);
    return memory;
}

static bool in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

static void join_list(const char *const *list, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; list[i] && used < size; i++) {
        const char *name = strcmp(list[i], "<operator>") == 0
                               ? "an operator (eq, ne, lt, le, gt, ge, in, matches)" : list[i];
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", name);
    }
}

bool parse_expect(parser *p, const ynode *node, ynode_kind kind, const char *what)
{
    static const char *const kinds[] = {"a string", "a mapping", "a list"};
    if (node->kind == kind)
        return true;
    return parse_error(p, node, "%s must be %s", what, kinds[kind]);
}

const ynode *parse_map_get(const ynode *map, const char *key)
{
    for (const ynode *k = map->first; k && k->next; k = k->next->next)
        if (k->kind == YNODE_SCALAR && strcmp(k->text, key) == 0)
            return k->next;
    return NULL;
}

static bool check_one_key(parser *p, const ynode *map, const ynode *key, const char *what,
                          const char *const *allowed)
{
    if (key->kind != YNODE_SCALAR)
        return parse_error(p, key, "keys of %s must be strings", what);
    if (!in_list(allowed, key->text) && !(in_list(allowed, "<operator>") &&
                                          parse_is_operator(key->text))) {
        char expected[512];
        join_list(allowed, expected, sizeof expected);
        return parse_error(p, key, "unknown key '%s' in %s (expected %s)", key->text, what,
                           expected);
    }
    for (const ynode *k = map->first; k != key; k = k->next->next)
        if (k->kind == YNODE_SCALAR && strcmp(k->text, key->text) == 0)
            return parse_error(p, key, "duplicate key '%s' in %s", key->text, what);
    return true;
}

bool parse_check_keys(parser *p, const ynode *map, const char *what,
                      const char *const *allowed, const char *const *required)
{
    if (!parse_expect(p, map, YNODE_MAP, what))
        return false;
    for (const ynode *k = map->first; k && k->next; k = k->next->next)
        if (!check_one_key(p, map, k, what, allowed))
            return false;
    for (size_t i = 0; required && required[i]; i++)
        if (!parse_map_get(map, required[i]))
            return parse_error(p, map, "%s needs the key '%s'", what, required[i]);
    return true;
}

bool parse_string(parser *p, const ynode *node, const char *what, const char **out)
{
    if (!parse_expect(p, node, YNODE_SCALAR, what))
        return false;
    if (node->length == 0 || strlen(node->text) != node->length)
        return parse_error(p, node, "%s must be a non-empty string without NUL bytes", what);
    *out = node->text;
    return true;
}

bool parse_bool(parser *p, const ynode *node, const char *what, bool *out)
{
    if (node->kind == YNODE_SCALAR && node->plain) {
        if (strcmp(node->text, "true") == 0 || strcmp(node->text, "false") == 0) {
            *out = node->text[0] == 't';
            return true;
        }
    }
    return parse_error(p, node, "%s must be true or false", what);
}

/* Decimal or 0x hex digits, then an optional suffix returned in *suffix. */
static bool scan_u64(const char *text, uint64_t *out, const char **suffix)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 0);
    if (errno || end == text)
        return false;
    *out = value;
    *suffix = end;
    return true;
}

bool parse_u64(parser *p, const ynode *node, const char *what, uint64_t *out)
{
    const char *suffix;
    if (node->kind != YNODE_SCALAR || !scan_u64(node->text, out, &suffix) || *suffix)
        return parse_error(p, node, "%s must be a whole number (decimal or 0x hex)", what);
    return true;
}

bool parse_string_list(parser *p, const ynode *node, const char *what, size_t max,
                       size_t *count, const char ***out)
{
    if (node->kind == YNODE_SCALAR) {
        *count = 1;
        *out = parse_alloc(p, node, 1, sizeof **out);
        return *out && parse_string(p, node, what, &(*out)[0]);
    }
    if (!parse_expect(p, node, YNODE_SEQ, what))
        return false;
    if (node->count == 0 || node->count > max)
        return parse_error(p, node, "%s needs from 1 to %zu items", what, max);
    *count = node->count;
    *out = parse_alloc(p, node, node->count, sizeof **out);
    size_t i = 0;
    for (const ynode *item = node->first; *out && item; item = item->next)
        if (!parse_string(p, item, what, &(*out)[i++]))
            return false;
    return *out != NULL;
}

typedef struct unit {
    const char *suffix;
    uint64_t scale;
} unit;

static const unit byte_units[] = {{"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
                                  {"GiB", 1ull << 30}, {"TiB", 1ull << 40}, {NULL, 0}};
static const unit duration_units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600},
                                      {"d", 86400}, {NULL, 0}};
static const unit percent_units[] = {{"", 1}, {"%", 1}, {NULL, 0}};
static const unit plain_units[] = {{"", 1}, {NULL, 0}};

static const unit *units_for(value_type type)
{
    switch (type) {
    case VT_BYTES: return byte_units;
    case VT_DURATION: return duration_units;
    case VT_PERCENT: return percent_units;
    default: return plain_units;
    }
}

static bool scaled_number(const char *text, const unit *units, uint64_t *out)
{
    uint64_t value;
    const char *suffix;
    if (!scan_u64(text, &value, &suffix))
        return false;
    for (size_t i = 0; units[i].suffix; i++)
        if (strcmp(suffix, units[i].suffix) == 0)
            return !__builtin_mul_overflow(value, units[i].scale, out);
    return false;
}

static const char *type_description(value_type type)
{
    switch (type) {
    case VT_BYTES: return "a size (e.g. 512MiB, 2GiB)";
    case VT_DURATION: return "a duration (e.g. 90s, 5m, 2h, 3d)";
    case VT_PERCENT: return "a percentage from 0 to 100";
    case VT_BOOL: return "true or false";
    case VT_STRING: return "a string";
    case VT_THREAD: return "a thread id";
    default: return "a whole number (decimal or 0x hex)";
    }
}

bool parse_literal(parser *p, const ynode *node, value_type type, rule_value *out)
{
    *out = (rule_value){.type = type};
    if (type == VT_THREADS)
        return parse_error(p, node, "a thread list cannot be compared; use its count");
    if (node->kind != YNODE_SCALAR)
        return parse_error(p, node, "expected %s", type_description(type));
    if (type == VT_STRING)
        return parse_string(p, node, "the value", &out->text);
    if (type == VT_BOOL) {
        bool value;
        if (!parse_bool(p, node, "the value", &value))
            return false;
        out->number = value;
        return true;
    }
    if (!scaled_number(node->text, units_for(type), &out->number) ||
        (type == VT_PERCENT && out->number > 100))
        return parse_error(p, node, "expected %s, not '%s'", type_description(type), node->text);
    return true;
}

static const char *const operators[] = {"eq", "ne", "lt", "le", "gt", "ge", "in", "matches",
                                        NULL};

bool parse_is_operator(const char *key)
{
    return in_list(operators, key);
}

static bool operator_allowed(parser *p, const ynode *key, compare_op op, value_type type,
                             const char *what)
{
    bool ordered = op >= OP_LT && op <= OP_GE;
    if (ordered && (type == VT_STRING || type == VT_BOOL || type == VT_THREAD))
        return parse_error(p, key, "'%s' does not apply to %s (a %s)", key->text, what,
                           type == VT_STRING ? "string" : type == VT_BOOL ? "bool" : "thread");
    if (op == OP_MATCHES && type != VT_STRING)
        return parse_error(p, key, "'matches' applies to strings only, not to %s", what);
    if (op == OP_IN && type == VT_BOOL)
        return parse_error(p, key, "'in' does not apply to %s (a bool)", what);
    return true;
}

static bool parse_in_list(parser *p, const ynode *value, value_type type, comparison *out)
{
    if (!parse_expect(p, value, YNODE_SEQ, "the value of 'in'"))
        return false;
    if (value->count == 0 || value->count > 256)
        return parse_error(p, value, "'in' needs from 1 to 256 values");
    out->value_count = value->count;
    out->values = parse_alloc(p, value, value->count, sizeof *out->values);
    size_t i = 0;
    for (const ynode *item = value->first; out->values && item; item = item->next)
        if (!parse_literal(p, item, type, &out->values[i++]))
            return false;
    return out->values != NULL;
}

static const ynode *find_operator(parser *p, const ynode *map, const char *what)
{
    const ynode *found = NULL;
    for (const ynode *k = map->first; k && k->next; k = k->next->next) {
        if (k->kind != YNODE_SCALAR || !parse_is_operator(k->text))
            continue;
        if (found) {
            parse_error(p, k, "%s has more than one operator ('%s' and '%s')", what,
                        found->text, k->text);
            return NULL;
        }
        found = k;
    }
    if (!found)
        parse_error(p, map, "%s needs an operator: eq, ne, lt, le, gt, ge, in or matches", what);
    return found;
}

bool parse_comparison(parser *p, const ynode *map, value_type type, const char *what,
                      comparison *out)
{
    const ynode *key = find_operator(p, map, what);
    if (!key)
        return false;
    compare_op op = OP_EQ;
    while (strcmp(operators[op], key->text) != 0)
        op++;
    if (!operator_allowed(p, key, op, type, what))
        return false;
    out->op = op;
    if (op == OP_IN)
        return parse_in_list(p, key->next, type, out);
    out->value_count = 1;
    out->values = parse_alloc(p, key->next, 1, sizeof *out->values);
    return out->values && parse_literal(p, key->next, type, &out->values[0]);
}
