/* Naming walked frames through the symbolizer. */
#include "unwind/walker_internal.h"

#include <string.h>

#include "base/clock.h"

static const char *copy(dt_stacks *s, const char *text)
{
    return text ? dt_arena_printf(&s->arena, "%s", text) : NULL;
}

/* Copies the symbol's inline frames into the stacks' arena. */
static bool copy_inlines(dt_stacks *s, dt_frame *f, const dt_symbol *sym)
{
    if (sym->inline_count == 0)
        return true;
    dt_inline_frame *inlines = dt_arena_array(&s->arena, sym->inline_count, sizeof *inlines);
    if (!inlines)
        return false;
    for (size_t i = 0; i < sym->inline_count; i++) {
        inlines[i].function = copy(s, sym->inlines[i].function);
        inlines[i].file = copy(s, sym->inlines[i].file);
        inlines[i].line = sym->inlines[i].line;
    }
    f->inlines = inlines;
    f->inline_count = sym->inline_count;
    return true;
}

static bool name_frame(dt_stacks *s, dt_frame *f, dt_symbolizer *symbolizer)
{
    dt_symbol sym;
    uint64_t lookup = f->exact ? f->ip : f->ip - 1;
    if (!f->module || !dt_symbolizer_lookup(symbolizer, f->module, lookup, &sym))
        return true;
    f->function = copy(s, sym.function);
    f->function_offset = f->ip - (f->module->base + sym.function_rva);
    f->file = copy(s, sym.file);
    f->line = sym.line;
    return f->function && copy_inlines(s, f, &sym);
}

dt_status dt_stacks_symbolize(dt_stacks *stacks, dt_symbolizer *symbolizer)
{
    if (dt_stacks_rewalk_x86(stacks, symbolizer) != DT_OK)
        return DT_ERR_NOMEM;
    size_t t = 0;
    for (; t < stacks->thread_count && !dt_clock_past(stacks->options.deadline_ns); t++) {
        dt_thread_stack *thread = &stacks->threads[t];
        for (size_t i = 0; i < thread->frame_count; i++)
            if (!name_frame(stacks, &thread->frames[i], symbolizer))
                return DT_ERR_NOMEM;
    }
    size_t unnamed = 0;
    for (; t < stacks->thread_count; t++)
        unnamed += stacks->threads[t].frame_count > 0;
    dt_stacks_note_deadline(stacks, unnamed, "named");
    return DT_OK;
}
