/* Parsing `match`: all/any/not over stack, exception and fact conditions. */
#include "rules/parse.h"

#include <ctype.h>
#include <string.h>

enum { MAX_CHILDREN = 256, MAX_CODES = 64, MAX_PARAMETERS = 15 };

static const char *const condition_keys[] = {"all", "any", "not", "stack", "exception", "fact",
                                             NULL};

/* ---- stack ---------------------------------------------------------------- */

static bool valid_frame_pattern(const char *text)
{
    const char *bang = strchr(text, '!');
    return bang && bang > text && bang[1] != '\0';
}

static bool parse_pattern(parser *p, const ynode *node, const char **out)
{
    if (!parse_string(p, node, "a frame pattern", out))
        return false;
    if (strcmp(*out, "...") != 0 && !valid_frame_pattern(*out))
        return parse_error(p, node, "frame pattern '%s' must be module!function (globs allowed)",
                           *out);
    return true;
}

static bool parse_alternatives(parser *p, const ynode *node, frame_item *item)
{
    if (node->count == 0 || node->count > DT_RULES_MAX_PATTERNS)
        return parse_error(p, node, "a list of alternatives needs from 1 to %d patterns",
                           DT_RULES_MAX_PATTERNS);
    item->alt_count = node->count;
    item->alts = parse_alloc(p, node, node->count, sizeof *item->alts);
    size_t i = 0;
    for (const ynode *alt = node->first; item->alts && alt; alt = alt->next) {
        if (!parse_pattern(p, alt, &item->alts[i]))
            return false;
        if (strcmp(item->alts[i++], "...") == 0)
            return parse_error(p, alt, "'...' cannot be an alternative");
    }
    return item->alts != NULL;
}

static bool parse_frame_item(parser *p, const ynode *node, frame_item *item)
{
    if (node->kind == YNODE_SEQ)
        return parse_alternatives(p, node, item);
    item->alt_count = 1;
    item->alts = parse_alloc(p, node, 1, sizeof *item->alts);
    if (!item->alts || !parse_pattern(p, node, &item->alts[0]))
        return false;
    item->gap = strcmp(item->alts[0], "...") == 0;
    return true;
}

static bool parse_frames(parser *p, const ynode *node, stack_cond *out)
{
    if (!parse_expect(p, node, YNODE_SEQ, "frames"))
        return false;
    if (node->count == 0 || node->count > DT_RULES_MAX_PATTERNS)
        return parse_error(p, node, "frames needs from 1 to %d patterns", DT_RULES_MAX_PATTERNS);
    out->item_count = node->count;
    out->items = parse_alloc(p, node, node->count, sizeof *out->items);
    size_t i = 0, patterns = 0;
    for (const ynode *item = node->first; out->items && item; item = item->next) {
        if (!parse_frame_item(p, item, &out->items[i]))
            return false;
        patterns += !out->items[i++].gap;
    }
    if (out->items && patterns == 0)
        return parse_error(p, node, "frames needs at least one pattern besides '...'");
    return out->items != NULL;
}

static bool parse_state(parser *p, const ynode *node, stack_cond *out)
{
    static const char *const names[] = {"running", "waiting", "idle"};
    size_t count;
    const char **states;
    if (!parse_string_list(p, node, "state", 3, &count, &states))
        return false;
    out->has_state = true;
    out->state_mask = 0;
    for (size_t i = 0; i < count; i++) {
        size_t s = 0;
        while (s < 3 && strcmp(states[i], names[s]) != 0)
            s++;
        if (s == 3)
            return parse_error(p, node, "unknown thread state '%s' (running, waiting or idle)",
                               states[i]);
        out->state_mask |= 1u << s;
    }
    return true;
}

static bool valid_label(const char *text)
{
    if (!islower((unsigned char)text[0]))
        return false;
    for (const char *c = text; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
            return false;
    return strlen(text) <= 64;
}

static bool remember_label(parser *p, const ynode *node, const char *label)
{
    if (!valid_label(label))
        return parse_error(p, node, "label '%s' must be lower case letters, digits and '_', "
                           "starting with a letter", label);
    if (p->analyzer && analyzer_var_index(p->analyzer, label) >= 0)
        return parse_error(p, node, "label '%s' hides the analyzer variable of that name",
                           label);
    for (size_t i = 0; i < p->label_count; i++)
        if (strcmp(p->labels[i], label) == 0)
            return true;
    if (p->label_count == MAX_LABELS)
        return parse_error(p, node, "more than %d labels in one rule", MAX_LABELS);
    p->labels[p->label_count++] = label;
    return true;
}

static bool parse_thread_source(parser *p, const ynode *node, stack_cond *out)
{
    const char *name;
    if (!parse_string(p, node, "thread", &name))
        return false;
    if (strcmp(name, "exception") == 0) {
        out->source = THREADS_EXCEPTION;
        return true;
    }
    int var = p->analyzer ? analyzer_var_index(p->analyzer, name) : -1;
    value_type type = var >= 0 ? p->analyzer->vars[var].type : VT_INT;
    if (type != VT_THREAD && type != VT_THREADS)
        return parse_error(p, node, "thread must be 'exception' or a thread variable of the "
                           "rule's analyzer, not '%s'", name);
    out->source = THREADS_VARIABLE;
    out->variable = var;
    return true;
}

static bool parse_min_threads(parser *p, const ynode *node, stack_cond *out)
{
    if (!parse_u64(p, node, "min_threads", &out->min_threads))
        return false;
    return out->min_threads > 0 || parse_error(p, node, "min_threads must be at least 1");
}

static bool parse_stack_counts(parser *p, const ynode *map, stack_cond *out)
{
    const ynode *min_threads = parse_map_get(map, "min_threads");
    const ynode *min_percent = parse_map_get(map, "min_percent");
    out->min_threads = 1;
    if (min_threads && !parse_min_threads(p, min_threads, out))
        return false;
    if (!min_percent)
        return true;
    rule_value percent;
    if (!parse_literal(p, min_percent, VT_PERCENT, &percent))
        return false;
    out->min_percent = percent.number;
    return true;
}

static bool parse_stack_flags(parser *p, const ynode *map, stack_cond *out)
{
    const ynode *anchored = parse_map_get(map, "anchored");
    const ynode *skip = parse_map_get(map, "skip_waits");
    if (anchored && !parse_bool(p, anchored, "anchored", &out->anchored))
        return false;
    if (skip && !parse_bool(p, skip, "skip_waits", &out->skip_waits))
        return false;
    if (out->skip_waits && !out->anchored)
        return parse_error(p, skip, "skip_waits needs anchored: true");
    return true;
}

static bool parse_stack(parser *p, const ynode *map, stack_cond *out)
{
    static const char *const keys[] = {"label", "frames", "anchored", "skip_waits", "min_threads",
                                       "min_percent", "state", "thread", NULL};
    static const char *const required[] = {"frames", NULL};
    if (!parse_check_keys(p, map, "a stack condition", keys, required))
        return false;
    const ynode *label = parse_map_get(map, "label");
    const ynode *state = parse_map_get(map, "state");
    const ynode *thread = parse_map_get(map, "thread");
    out->label = "threads";
    out->state_mask = STATE_RUNNING | STATE_WAITING;
    if (label && !parse_string(p, label, "label", &out->label))
        return false;
    return remember_label(p, label ? label : map, out->label) &&
           parse_frames(p, parse_map_get(map, "frames"), out) &&
           parse_stack_flags(p, map, out) && parse_stack_counts(p, map, out) &&
           (!state || parse_state(p, state, out)) &&
           (!thread || parse_thread_source(p, thread, out));
}

/* ---- exception ------------------------------------------------------------ */

static bool parse_codes(parser *p, const ynode *node, exception_cond *out)
{
    const ynode *single = node->kind == YNODE_SCALAR ? node : NULL;
    if (!single && !parse_expect(p, node, YNODE_SEQ, "code"))
        return false;
    size_t count = single ? 1 : node->count;
    if (count == 0 || count > MAX_CODES)
        return parse_error(p, node, "code needs from 1 to %d exception codes", MAX_CODES);
    out->code_count = count;
    out->codes = parse_alloc(p, node, count, sizeof *out->codes);
    size_t i = 0;
    for (const ynode *item = single ? single : node->first; out->codes && item && i < count;
         item = item->next) {
        uint64_t code;
        if (!parse_u64(p, item, "an exception code", &code))
            return false;
        if (code > 0xFFFFFFFFu)
            return parse_error(p, item, "exception code 0x%llx is wider than 32 bits",
                               (unsigned long long)code);
        out->codes[i++] = (uint32_t)code;
    }
    return out->codes != NULL;
}

static bool parse_access(parser *p, const ynode *node, exception_cond *out)
{
    static const char *const names[] = {"read", "write", "execute"};
    static const uint64_t values[] = {0, 1, 8};
    const char **items;
    if (!parse_string_list(p, node, "access", 3, &out->access_count, &items))
        return false;
    out->access = parse_alloc(p, node, out->access_count, sizeof *out->access);
    for (size_t i = 0; out->access && i < out->access_count; i++) {
        size_t k = 0;
        while (k < 3 && strcmp(items[i], names[k]) != 0)
            k++;
        if (k == 3)
            return parse_error(p, node, "unknown access '%s' (read, write or execute)", items[i]);
        out->access[i] = values[k];
    }
    return out->access != NULL;
}

static bool parse_target(parser *p, const ynode *node, exception_cond *out)
{
    static const char *const keys[] = {"<operator>", NULL};
    out->has_target = true;
    return parse_check_keys(p, node, "target", keys, NULL) &&
           parse_comparison(p, node, VT_ADDRESS, "target", &out->target);
}

static bool parse_parameter(parser *p, const ynode *node, param_test *out)
{
    static const char *const keys[] = {"index", "<operator>", NULL};
    static const char *const required[] = {"index", NULL};
    if (!parse_check_keys(p, node, "a parameter test", keys, required))
        return false;
    const ynode *index = parse_map_get(node, "index");
    uint64_t value;
    if (!parse_u64(p, index, "index", &value))
        return false;
    if (value >= MAX_PARAMETERS)
        return parse_error(p, index, "index must be from 0 to 14");
    out->index = (uint32_t)value;
    return parse_comparison(p, node, VT_INT, "the parameter", &out->compare);
}

static bool parse_parameters(parser *p, const ynode *node, exception_cond *out)
{
    if (!parse_expect(p, node, YNODE_SEQ, "parameters"))
        return false;
    if (node->count == 0 || node->count > MAX_PARAMETERS)
        return parse_error(p, node, "parameters needs from 1 to %d tests", MAX_PARAMETERS);
    out->param_count = node->count;
    out->params = parse_alloc(p, node, node->count, sizeof *out->params);
    size_t i = 0;
    for (const ynode *item = node->first; out->params && item; item = item->next)
        if (!parse_parameter(p, item, &out->params[i++]))
            return false;
    return out->params != NULL;
}

static bool parse_exception(parser *p, const ynode *map, exception_cond *out)
{
    static const char *const keys[] = {"code", "access", "target", "parameters", NULL};
    if (!parse_check_keys(p, map, "an exception condition", keys, NULL))
        return false;
    const ynode *code = parse_map_get(map, "code"), *access = parse_map_get(map, "access");
    const ynode *target = parse_map_get(map, "target");
    const ynode *parameters = parse_map_get(map, "parameters");
    return (!code || parse_codes(p, code, out)) && (!access || parse_access(p, access, out)) &&
           (!target || parse_target(p, target, out)) &&
           (!parameters || parse_parameters(p, parameters, out));
}

/* ---- fact --------------------------------------------------------------- */

static bool parse_fact(parser *p, const ynode *map, fact_cond *out)
{
    static const char *const keys[] = {"fact", "<operator>", NULL};
    if (!parse_check_keys(p, map, "a fact condition", keys, NULL) ||
        !parse_string(p, parse_map_get(map, "fact"), "fact", &out->name))
        return false;
    out->variable = p->analyzer ? analyzer_var_index(p->analyzer, out->name) : -1;
    out->fact = out->variable < 0 ? fact_find(out->name) : NULL;
    if (out->variable < 0 && !out->fact)
        return parse_error(p, parse_map_get(map, "fact"), "unknown fact '%s'%s", out->name,
                           p->analyzer ? " (not a fact nor a variable of the analyzer)" : "");
    value_type type = out->fact ? out->fact->var.type : p->analyzer->vars[out->variable].type;
    if (type == VT_THREADS)
        return parse_error(p, parse_map_get(map, "fact"),
                           "'%s' is a thread list; test its count instead", out->name);
    return parse_comparison(p, map, type, out->name, &out->compare);
}

/* ---- all, any, not ------------------------------------------------------ */

static bool parse_children(parser *p, const ynode *list, size_t depth, condition *out)
{
    if (!parse_expect(p, list, YNODE_SEQ, "all/any"))
        return false;
    if (list->count == 0 || list->count > MAX_CHILDREN)
        return parse_error(p, list, "all/any needs from 1 to %d conditions", MAX_CHILDREN);
    out->child_count = list->count;
    out->children = parse_alloc(p, list, list->count, sizeof *out->children);
    size_t i = 0;
    for (const ynode *item = list->first; out->children && item; item = item->next)
        if (!parse_condition(p, item, depth + 1, &out->children[i++]))
            return false;
    return out->children != NULL;
}

static const ynode *condition_key(parser *p, const ynode *map)
{
    const ynode *found = NULL;
    for (const ynode *k = map->first; k && k->next; k = k->next->next) {
        if (k->kind != YNODE_SCALAR || parse_is_operator(k->text))
            continue;
        size_t i = 0;
        while (condition_keys[i] && strcmp(condition_keys[i], k->text) != 0)
            i++;
        if (!condition_keys[i]) {
            parse_error(p, k, "unknown key '%s' in a condition (expected all, any, not, stack, "
                        "exception or fact)", k->text);
            return NULL;
        }
        if (found) {
            parse_error(p, k, "a condition has one of all, any, not, stack, exception, fact; "
                        "found '%s' and '%s'", found->text, k->text);
            return NULL;
        }
        found = k;
    }
    if (!found)
        parse_error(p, map, "a condition needs one of all, any, not, stack, exception, fact");
    return found;
}

static bool parse_keyed_condition(parser *p, const ynode *map, const ynode *key, size_t depth,
                                  condition *out)
{
    static const cond_kind kinds[] = {COND_ALL, COND_ANY, COND_NOT, COND_STACK, COND_EXCEPTION,
                                      COND_FACT};
    size_t k = 0;
    while (strcmp(condition_keys[k], key->text) != 0)
        k++;
    out->kind = kinds[k];
    if (out->kind == COND_FACT)
        return parse_fact(p, map, &out->fact);
    for (const ynode *other = map->first; other && other->next; other = other->next->next)
        if (other != key)
            return parse_error(p, other, "a '%s' condition takes no other keys", key->text);
    const ynode *value = key->next;
    switch (out->kind) {
    case COND_ALL:
    case COND_ANY: return parse_children(p, value, depth, out);
    case COND_NOT:
        out->child_count = 1;
        out->children = parse_alloc(p, value, 1, sizeof *out->children);
        return out->children && parse_condition(p, value, depth + 1, out->children);
    case COND_STACK: return parse_stack(p, value, &out->stack);
    default: return parse_exception(p, value, &out->exception);
    }
}

bool parse_condition(parser *p, const ynode *node, size_t depth, condition *out)
{
    out->pos = node->pos;
    if (depth > DT_RULES_MAX_NESTING)
        return parse_error(p, node, "conditions nested more than %d levels deep",
                           DT_RULES_MAX_NESTING);
    if (node->kind == YNODE_SEQ) {
        out->kind = COND_ALL;
        return parse_children(p, node, depth, out);
    }
    if (!parse_expect(p, node, YNODE_MAP, "a condition"))
        return false;
    const ynode *key = condition_key(p, node);
    return key && parse_keyed_condition(p, node, key, depth, out);
}
