#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool grow(dt_diag_list *list)
{
    if (list->count < list->capacity)
        return true;
    size_t capacity = list->capacity ? list->capacity * 2 : 16;
    dt_diagnostic *items = realloc(list->items, capacity * sizeof *items);
    if (!items)
        return false;
    list->items = items;
    list->capacity = capacity;
    return true;
}

static void push(dt_diag_list *list, dt_arena *arena, dt_diag_level level,
                 const char *structure, int64_t offset, const char *message)
{
    char *structure_copy = dt_arena_printf(arena, "%s", structure);
    if (!message || !structure_copy || !grow(list)) {
        list->dropped++;
        return;
    }
    dt_diagnostic *d = &list->items[list->count++];
    d->level = level;
    d->structure = structure_copy;
    d->has_offset = offset >= 0;
    d->offset = offset >= 0 ? (uint64_t)offset : 0;
    d->message = message;
}

void dt_diag_vadd(dt_diag_list *list, dt_arena *arena, dt_diag_level level,
                  const char *structure, int64_t offset, const char *fmt, va_list ap)
{
    if (list->count >= DT_DIAG_CAP) {
        list->dropped++;
        return;
    }
    char buffer[512];
    vsnprintf(buffer, sizeof buffer, fmt, ap);
    push(list, arena, level, structure, offset, dt_arena_printf(arena, "%s", buffer));
}

void dt_diag_add(dt_diag_list *list, dt_arena *arena, dt_diag_level level,
                 const char *structure, int64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_diag_vadd(list, arena, level, structure, offset, fmt, ap);
    va_end(ap);
}

void dt_diag_finish(dt_diag_list *list, dt_arena *arena)
{
    if (list->dropped == 0)
        return;
    push(list, arena, DT_DIAG_WARNING, "diagnostics", -1,
         dt_arena_printf(arena, "%zu more diagnostics suppressed", list->dropped));
}

void dt_diag_list_free(dt_diag_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = list->capacity = list->dropped = 0;
}
