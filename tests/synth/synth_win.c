/* synth_win: STACK WIN lines (Breakpad docs/symbol_files.md) for x86 code. */
#include "synth_win.h"

#include <stdbool.h>

enum { WIN_FPO = 0, WIN_FRAME_DATA = 4, WORD = 4, REG_EBP = 5 };

static const char *const REGISTER_NAMES[8] = {"$eax", "$ecx", "$edx", "$ebx",
                                              "$esp", "$ebp", "$esi", "$edi"};

static bool has_frame_pointer(const synth_function *f)
{
    for (size_t i = 0; i < f->op_count; i++)
        if (f->ops[i].kind == SYNTH_OP_SET_FPREG && f->ops[i].reg == REG_EBP)
            return true;
    return false;
}

/* STACK WIN 4 rva size prolog epilog params saved locals maxstack 1 program:
 * .raSearch (esp + locals + saved registers) is the return address slot;
 * a register pushed when the frame was `depth` bytes deep is at
 * .raSearch - depth. */
static void write_frame_data(FILE *out, const synth_function *f, const synth_code *code,
                             uint32_t rva)
{
    uint32_t depth = 0, saved = 0, locals = 0;
    char program[512];
    int n = snprintf(program, sizeof program, "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =");
    for (size_t i = 0; i < f->op_count; i++) {
        const synth_op *op = &f->ops[i];
        if (op->kind == SYNTH_OP_ALLOC) {
            depth += op->value;
            locals += op->value;
        } else if (op->kind == SYNTH_OP_PUSH && op->reg < 8) {
            depth += WORD;
            saved += WORD;
            n += snprintf(program + n, sizeof program - (size_t)n, " %s $T0 %u - ^ =",
                          REGISTER_NAMES[op->reg], depth);
        }
    }
    fprintf(out, "STACK WIN %d %x %x %x 0 %x %x %x 0 1 %s\n", WIN_FRAME_DATA, rva, code->size,
            code->prolog_size, f->param_size, saved, locals, program);
}

void synth_write_stack_win(FILE *out, const synth_function *f, const synth_code *code,
                           uint32_t rva)
{
    if (f->kind != SYNTH_FUNC_FRAME) {
        fprintf(out, "STACK WIN %d %x %x 0 0 %x 0 0 0 0 0\n", WIN_FPO, rva, code->size,
                f->param_size);
        return;
    }
    if (!has_frame_pointer(f))
        write_frame_data(out, f, code, rva);
}
