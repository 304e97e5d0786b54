/*
 * x86 frame steps: STACK WIN / FPO records (Breakpad docs/symbol_files.md,
 * "STACK WIN"; the PDB FPO_DATA and FRAMEDATA records they come from), the
 * EBP chain and stack scanning with call-site checks.
 */
#include "unwind/x86_unwind.h"

#include <string.h>

#include "unwind/return_address.h"

enum { TEMPORARIES = 10, MAX_FRAME_POINTER_GAP = 128 * 1024, WORD = 4 };

static const char *const REGISTER_NAMES[8] = {"$eax", "$ecx", "$edx", "$ebx",
                                              "$esp", "$ebp", "$esi", "$edi"};

/* ---- STACK WIN programs ------------------------------------------------- */

/* The variables a program sees: the frame's registers (updated by its
 * assignments), temporaries $T0..$T9 and the record's sizes. */
typedef struct program_state {
    const x86_unwind_env *env;
    x86_regs regs;
    uint32_t temps[TEMPORARIES];
    uint32_t ra_search;      /* .raSearch: ESP + locals + saved registers */
    const dt_sym_win *win;
    bool set_eip, set_esp;
} program_state;

static bool named(const char *name, size_t length, const char *literal)
{
    return strlen(literal) == length && memcmp(name, literal, length) == 0;
}

/* A register slot: eip, a general register, or a temporary; NULL otherwise. */
static uint32_t *variable(program_state *s, const char *name, size_t length, bool assigning)
{
    if (named(name, length, "$eip")) {
        s->set_eip |= assigning;
        return &s->regs.eip;
    }
    for (size_t r = 0; r < 8; r++)
        if (named(name, length, REGISTER_NAMES[r])) {
            s->set_esp |= assigning && r == DT_X86_ESP;
            return &s->regs.gpr[r];
        }
    if (length == 3 && name[0] == '$' && name[1] == 'T' && name[2] >= '0' && name[2] <= '9')
        return &s->temps[name[2] - '0'];
    return NULL;
}

/* Pseudo-registers Breakpad defines for STACK WIN programs. */
static bool pseudo_register(const program_state *s, const char *name, size_t length,
                            uint64_t *value)
{
    if (named(name, length, ".raSearch") || named(name, length, ".raSearchStart"))
        *value = s->ra_search;
    else if (named(name, length, ".cbSavedRegs"))
        *value = s->win->saved_regs_size;
    else if (named(name, length, ".cbLocals"))
        *value = s->win->locals_size;
    else if (named(name, length, ".cbParams"))
        *value = s->win->parameter_size;
    else if (named(name, length, ".cbCalleeParams"))
        *value = 0;
    else
        return false;
    return true;
}

static bool program_get(void *ctx, const char *name, size_t length, uint64_t *value)
{
    program_state *s = ctx;
    uint32_t *slot = variable(s, name, length, false);
    if (slot) {
        *value = *slot;
        return true;
    }
    return pseudo_register(s, name, length, value);
}

static bool program_set(void *ctx, const char *name, size_t length, uint64_t value)
{
    uint32_t *slot = variable(ctx, name, length, true);
    if (slot)
        *slot = (uint32_t)value;
    return slot != NULL;
}

static bool program_read(void *ctx, uint64_t address, uint64_t *value)
{
    const program_state *s = ctx;
    uint32_t word;
    if (address > UINT32_MAX - WORD || !dt_dump_read_u32(s->env->dump, address, &word))
        return false;
    *value = word;
    return true;
}

static x86_win_result run_program(const x86_unwind_env *env, const dt_sym_win *win,
                                  x86_regs *regs)
{
    program_state s = {.env = env, .regs = *regs, .win = win};
    s.ra_search = regs->gpr[DT_X86_ESP] + win->locals_size + win->saved_regs_size;
    dt_sym_cfi_env e = {program_get, program_read, program_set, &s, WORD};
    x86_win_result r = {X86_WIN_UNWOUND,
                        dt_sym_win_run_program(win->program, win->program_length, &e)};
    if (r.eval != DT_CFI_EVAL_OK || !s.set_eip || !s.set_esp) {
        r.status = X86_WIN_BAD_PROGRAM;
        return r;
    }
    *regs = s.regs;
    return r;
}

/* FPO record without a program (FPO_DATA: cdwLocals, cbRegs, fUseBP): the
 * return address sits above the locals and the saved registers. When the
 * function allocates EBP as a general register, the caller's EBP is the
 * first register it pushed (the highest saved slot). */
static x86_win_result run_fpo(const x86_unwind_env *env, const dt_sym_win *win, x86_regs *regs)
{
    x86_win_result r = {X86_WIN_BAD_PROGRAM, DT_CFI_EVAL_MEMORY};
    uint32_t esp = regs->gpr[DT_X86_ESP];
    uint64_t slot = (uint64_t)esp + win->locals_size + win->saved_regs_size;
    uint32_t ip, ebp = regs->gpr[DT_X86_EBP];
    if (slot > UINT32_MAX - WORD || !dt_dump_read_u32(env->dump, slot, &ip))
        return r;
    if (win->allocates_base_pointer && win->saved_regs_size >= WORD &&
        !dt_dump_read_u32(env->dump, esp + win->saved_regs_size - WORD, &ebp))
        return r;
    regs->eip = ip;
    regs->gpr[DT_X86_ESP] = (uint32_t)slot + WORD;
    regs->gpr[DT_X86_EBP] = ebp;
    r.status = X86_WIN_UNWOUND;
    r.eval = DT_CFI_EVAL_OK;
    return r;
}

x86_win_result dt_x86_unwind_win(const x86_unwind_env *env, const dt_sym_win *win,
                                 uint32_t offset, bool exact, x86_regs *regs)
{
    if (exact && offset < win->prolog_size)
        return (x86_win_result){X86_WIN_IN_PROLOG, DT_CFI_EVAL_OK};
    if (win->has_program)
        return run_program(env, win, regs);
    return run_fpo(env, win, regs);
}

/* ---- Fallbacks ----------------------------------------------------------- */

static bool stack_word(const x86_unwind_env *env, uint64_t address, uint32_t *value)
{
    return address >= env->stack_low && address + WORD <= env->stack_high &&
           dt_dump_read_u32(env->dump, address, value);
}

bool dt_x86_unwind_frame_pointer(const x86_unwind_env *env, x86_regs *regs)
{
    uint32_t ebp = regs->gpr[DT_X86_EBP], esp = regs->gpr[DT_X86_ESP];
    uint32_t caller_ebp, ip;
    if (ebp < esp || (ebp & 3) || ebp - esp > MAX_FRAME_POINTER_GAP ||
        !stack_word(env, ebp, &caller_ebp) || !stack_word(env, (uint64_t)ebp + WORD, &ip) ||
        !dt_plausible_return_address32(env->dump, env->images, ip, false))
        return false;
    regs->eip = ip;
    regs->gpr[DT_X86_ESP] = ebp + 2 * WORD;
    regs->gpr[DT_X86_EBP] = caller_ebp;
    return true;
}

bool dt_x86_unwind_scan(const x86_unwind_env *env, size_t words, x86_regs *regs)
{
    uint64_t esp = regs->gpr[DT_X86_ESP];
    for (size_t i = 0; i < words; i++) {
        uint64_t slot = esp + WORD * i;
        uint32_t value;
        if (!stack_word(env, slot, &value))
            return false;
        if (dt_plausible_return_address32(env->dump, env->images, value, true)) {
            regs->eip = value;
            regs->gpr[DT_X86_ESP] = (uint32_t)(slot + WORD);
            return true;
        }
    }
    return false;
}
