/*
 * The x86 walk: for each frame, the caller from the STACK WIN / FPO record
 * the symbolizer has for the code (PDB or .sym), else a validated EBP
 * chain, else bounded scanning for a return address after a verified CALL.
 */
#include "unwind/x86_walk.h"

enum { SCAN_WORDS_CONTEXT = 160, SCAN_WORDS = 40 };

typedef struct x86_walker {
    const x86_walk_input *in;
    x86_regs regs;
    bool exact;
    size_t count;
} x86_walker;

/* The caller from the record covering the code, when there is one. */
static bool try_record(x86_walker *w, const x86_frame_sink *sink)
{
    uint64_t lookup = w->exact ? w->regs.eip : (uint64_t)w->regs.eip - 1;
    const dt_module *module = dt_dump_module_at(w->in->env.dump, lookup);
    dt_sym_win win;
    if (!module || !dt_symbolizer_find_win(w->in->symbolizer, module, lookup, &win))
        return false;
    uint32_t offset = (uint32_t)(lookup - module->base) - win.rva;
    x86_win_result r = dt_x86_unwind_win(&w->in->env, &win, offset, w->exact, &w->regs);
    if (r.status == X86_WIN_BAD_PROGRAM && sink->warn)
        sink->warn(sink->ctx, w->regs.eip, dt_sym_cfi_eval_name(r.eval));
    return r.status == X86_WIN_UNWOUND;
}

/* The caller's registers and the new frame's trust; -1 when none is found. */
static int step(x86_walker *w, const x86_frame_sink *sink)
{
    bool first = w->count == 1;
    if (w->in->symbolizer && try_record(w, sink)) {
        w->exact = false;
        return DT_TRUST_CFI;
    }
    w->exact = false;
    if (dt_x86_unwind_frame_pointer(&w->in->env, &w->regs))
        return DT_TRUST_FRAME_POINTER;
    if (dt_x86_unwind_scan(&w->in->env, first ? SCAN_WORDS_CONTEXT : SCAN_WORDS, &w->regs))
        return DT_TRUST_SCAN;
    return -1;
}

static const char *invalid_caller(const x86_walker *w, uint32_t previous_sp)
{
    uint32_t sp = w->regs.gpr[DT_X86_ESP];
    if (w->regs.eip == 0)
        return "return address is zero";
    if (sp <= previous_sp)
        return "stack pointer did not increase";
    if (sp > w->in->env.stack_high)
        return "stack pointer left the thread's stack";
    return NULL;
}

const char *dt_x86_walk(const x86_walk_input *in, const x86_frame_sink *sink)
{
    x86_walker w = {.in = in, .regs = in->start, .exact = true, .count = 1};
    if (!sink->frame(sink->ctx, w.regs.eip, w.regs.gpr[DT_X86_ESP], true, DT_TRUST_CONTEXT))
        return NULL;
    while (w.count < in->max_frames) {
        uint32_t sp = w.regs.gpr[DT_X86_ESP];
        int trust = step(&w, sink);
        if (trust < 0)
            return "no unwind record, frame pointer or return address was found";
        const char *reason = invalid_caller(&w, sp);
        if (reason)
            return reason;
        if (!sink->frame(sink->ctx, w.regs.eip, w.regs.gpr[DT_X86_ESP], false,
                         (dt_frame_trust)trust))
            return NULL;
        w.count++;
    }
    return "frame limit reached";
}
