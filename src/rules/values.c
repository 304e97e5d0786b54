/* Typed values: comparisons, rendering, and the text glob. */
#include "rules/rules_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *compare_op_name(compare_op op)
{
    static const char *const names[] = {"eq", "ne", "lt", "le", "gt", "ge", "in", "matches"};
    return names[op];
}

/* Iterative glob with one backtrack point: O(n*m) at worst, no recursion. */
bool text_glob_matches(const char *pattern, const char *text)
{
    const char *star = NULL, *resume = NULL;
    while (*text) {
        if (*pattern == '*') {
            star = pattern++;
            resume = text;
        } else if (*pattern && (*pattern == '?' ||
                                tolower((unsigned char)*pattern) == tolower((unsigned char)*text))) {
            pattern++;
            text++;
        } else if (star) {
            pattern = star + 1;
            text = ++resume;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

static int compare_numbers(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static bool values_equal(const rule_value *expected, const rule_value *actual)
{
    if (actual->type == VT_STRING)
        return expected->text && actual->text && strcasecmp(expected->text, actual->text) == 0;
    return expected->number == actual->number;
}

static bool ordered_holds(compare_op op, int order)
{
    switch (op) {
    case OP_EQ: return order == 0;
    case OP_NE: return order != 0;
    case OP_LT: return order < 0;
    case OP_LE: return order <= 0;
    case OP_GT: return order > 0;
    case OP_GE: return order >= 0;
    default: return false;
    }
}

bool comparison_holds(const comparison *c, const rule_value *actual)
{
    if (c->op == OP_IN) {
        for (size_t i = 0; i < c->value_count; i++)
            if (values_equal(&c->values[i], actual))
                return true;
        return false;
    }
    const rule_value *expected = &c->values[0];
    if (c->op == OP_MATCHES)
        return actual->text && text_glob_matches(expected->text, actual->text);
    if (actual->type == VT_STRING || actual->type == VT_BOOL) {
        bool equal = values_equal(expected, actual);
        return c->op == OP_EQ ? equal : !equal;
    }
    return ordered_holds(c->op, compare_numbers(actual->number, expected->number));
}

static char *render_bytes(dt_arena *arena, uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return dt_arena_printf(arena, "%" PRIu64 " bytes", bytes);
    double value = (double)bytes / 1024.0;
    size_t unit = 0;
    while (value >= 1024.0 && unit < 3) {
        value /= 1024.0;
        unit++;
    }
    return dt_arena_printf(arena, "%.1f %s", value, units[unit]);
}

static char *render_duration(dt_arena *arena, uint64_t seconds)
{
    unsigned h = (unsigned)(seconds / 3600 % 24), m = (unsigned)(seconds / 60 % 60),
             s = (unsigned)(seconds % 60);
    uint64_t days = seconds / 86400;
    if (days)
        return dt_arena_printf(arena, "%" PRIu64 "d %02u:%02u:%02u", days, h, m, s);
    return dt_arena_printf(arena, "%02u:%02u:%02u", h, m, s);
}

static char *render_ids(dt_arena *arena, const uint32_t *ids, size_t count)
{
    enum { SHOWN = 20 };
    char buffer[SHOWN * 12 + 32] = "";
    size_t used = 0, shown = count < SHOWN ? count : SHOWN;
    for (size_t i = 0; i < shown; i++)
        used += (size_t)snprintf(buffer + used, sizeof buffer - used, "%s%" PRIu32,
                                 i ? ", " : "", ids[i]);
    if (count > shown)
        snprintf(buffer + used, sizeof buffer - used, " and %zu more", count - shown);
    return dt_arena_strndup(arena, buffer, strlen(buffer));
}

char *value_render(dt_arena *arena, const rule_value *v)
{
    switch (v->type) {
    case VT_BYTES: return render_bytes(arena, v->number);
    case VT_DURATION: return render_duration(arena, v->number);
    case VT_BOOL: return dt_arena_printf(arena, "%s", v->number ? "true" : "false");
    case VT_STRING: return dt_arena_printf(arena, "%s", v->text ? v->text : "");
    case VT_ADDRESS: return dt_arena_printf(arena, "0x%" PRIx64, v->number);
    case VT_THREADS: return render_ids(arena, v->ids, v->id_count);
    default: return dt_arena_printf(arena, "%" PRIu64, v->number);
    }
}
