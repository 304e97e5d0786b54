/*
 * synth_code: machine code and x64 unwind data for one synthetic function.
 *
 * A function is described by its prolog operations (what an x64 compiler
 * records as unwind codes). From that description the generator writes
 * real instructions (push, sub rsp, lea fp, mov [rsp+x], movaps ...), a body
 * with `call rel32` sites ending at requested return offsets, and epilogs
 * (restores, add rsp / lea rsp, pops, ret), together with the UNWIND_INFO
 * that describes exactly that code. Every instruction is also recorded with
 * its effect on the frame, so a stack builder can replay the frame state at
 * any offset (inside the prolog and epilogs too).
 *
 * Reference: learn.microsoft.com/cpp/build/exception-handling-x64 and
 * /work/shared/FORMATS.md section 2.4. Register numbers are the x64 unwind
 * numbers (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15).
 */
#ifndef SYNTH_CODE_H
#define SYNTH_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synth_buf.h"
#include "synth_dump.h"

/* Prolog operations, in the order the prolog performs them. */
typedef enum synth_op_kind {
    SYNTH_OP_PUSH,      /* push reg                      UWOP_PUSH_NONVOL */
    SYNTH_OP_ALLOC,     /* sub rsp, value                UWOP_ALLOC_SMALL / _LARGE */
    SYNTH_OP_SET_FPREG, /* lea reg, [rsp + value]        UWOP_SET_FPREG */
    SYNTH_OP_SAVE,      /* mov [frame + value], reg      UWOP_SAVE_NONVOL(_FAR) */
    SYNTH_OP_SAVE_XMM,  /* movaps [frame + value], xmmN  UWOP_SAVE_XMM128(_FAR) */
    SYNTH_OP_MACHFRAME  /* hardware pushed a machine frame (reg 1: with error
                           code)                         UWOP_PUSH_MACHFRAME */
} synth_op_kind;

/* How an operation is encoded in the unwind codes. */
typedef enum synth_op_encoding {
    SYNTH_ENC_AUTO = 0, /* the smallest encoding that fits */
    SYNTH_ENC_LARGE,    /* ALLOC_LARGE with the 16-bit scaled size */
    SYNTH_ENC_FAR       /* ALLOC_LARGE with the 32-bit size; SAVE_*_FAR */
} synth_op_encoding;

/* For SAVE and SAVE_XMM, `value` is the offset from the establisher frame
 * (the stack pointer after the fixed allocation, or frame register minus
 * 16 * FrameOffset when a frame register is set). SAVE operations must
 * come after every ALLOC, and PUSH operations before every ALLOC. */
typedef struct synth_op {
    synth_op_kind kind;
    uint8_t reg;
    uint32_t value;
    synth_op_encoding encoding;
} synth_op;

typedef enum synth_func_kind {
    SYNTH_FUNC_FRAME = 0, /* prolog, body, epilogs; has a RUNTIME_FUNCTION */
    SYNTH_FUNC_LEAF,      /* no stack use, no RUNTIME_FUNCTION; ends in ret */
    SYNTH_FUNC_SYSCALL    /* mov r10, rcx; mov eax, n; syscall; ret (leaf) */
} synth_func_kind;

/* Parts of a function placed apart from its primary entry. */
typedef enum synth_fragment_kind {
    SYNTH_PRIMARY = 0,
    SYNTH_CHAINED,        /* own UNWIND_INFO with UNW_FLAG_CHAININFO to the
                             parent; its ops may only be SAVE / SAVE_XMM */
    SYNTH_INDIRECT        /* RUNTIME_FUNCTION.UnwindData = parent entry | 1 */
} synth_fragment_kind;

typedef struct synth_function {
    const char *name;          /* symbol name (.sym FUNC, expected frames) */
    const char *export_name;   /* NULL: not exported */
    uint16_t ordinal;          /* export ordinal; 0 assigns the next free one */
    synth_func_kind kind;
    const synth_op *ops;
    size_t op_count;
    uint32_t min_size;         /* the function is at least this long */
    uint8_t unwind_version;    /* 1 (0 means 1) or 2 (epilog codes) */
    uint8_t extra_epilogs;     /* epilogs inside the body besides the last */
    uint32_t syscall_number;   /* SYNTH_FUNC_SYSCALL */
    synth_fragment_kind fragment;
    int parent;                /* primary function of a fragment (same unit) */
    uint32_t param_size;       /* Breakpad FUNC parameter_size */
} synth_function;

/* What an instruction does to the frame, for replaying the frame state. */
typedef enum synth_effect {
    SYNTH_FX_NONE = 0,
    SYNTH_FX_PUSH,        /* rsp -= 8; [rsp] = reg */
    SYNTH_FX_POP,         /* reg = [rsp]; rsp += 8 */
    SYNTH_FX_ALLOC,       /* rsp -= value */
    SYNTH_FX_FREE,        /* rsp += value */
    SYNTH_FX_SET_FP,      /* reg = rsp + value */
    SYNTH_FX_SP_FROM_FP,  /* rsp = reg + value (value may be negative) */
    SYNTH_FX_SAVE,        /* [rsp + value] = reg */
    SYNTH_FX_RESTORE,     /* reg = [rsp + value] */
    SYNTH_FX_SAVE_XMM,    /* [rsp + value] = xmm reg (16 bytes) */
    SYNTH_FX_RESTORE_XMM, /* xmm reg = [rsp + value] */
    SYNTH_FX_CALL,        /* call rel32 */
    SYNTH_FX_RET          /* ret / iretq */
} synth_effect;

typedef struct synth_insn {
    uint32_t offset;
    uint8_t size;
    synth_effect effect;
    uint8_t reg;
    int32_t value;
} synth_insn;

typedef struct synth_range {
    uint32_t start;
    uint32_t end;
} synth_range;

/* A call site: `call rel32` (E8, 5 bytes) linked to one target, or, when
 * different frames return through it from different callees, an indirect
 * `call rax` (FF D0, 2 bytes) as at a thread start or a virtual call. */
typedef struct synth_call {
    uint32_t return_offset;
    bool indirect;
} synth_call;

/* Generated code of one function. */
typedef struct synth_code {
    uint8_t *bytes;
    uint32_t size;
    uint32_t prolog_size;      /* offset just past the last prolog instruction */
    synth_insn *insns;         /* every instruction, in address order */
    size_t insn_count;
    synth_range *epilogs;      /* from the first restore to the ret, in order */
    size_t epilog_count;
    synth_call *calls;         /* call sites, by ascending return offset */
    size_t call_count;
    uint32_t epilog_v2_start;  /* offset of the first pop within an epilog */
} synth_code;

/* Generates code for `f` with the given call sites (any order, distinct
 * return offsets). `parent` is the primary function of a fragment, else
 * NULL. Aborts when the description cannot be encoded. */
void synth_code_generate(const synth_function *f, const synth_function *parent,
                         const synth_call *calls, size_t call_count, synth_code *out);
/* The same for 32-bit x86 (PE32): ops PUSH (push r32), ALLOC (sub esp, n)
 * and SET_FPREG (ebp, offset 0: mov ebp, esp); epilogs undo them in reverse
 * (mov esp, ebp for the frame pointer) and ret; a syscall stub is
 * mov eax, n; mov edx, 7FFE0300h; call [edx]; ret param_size. No unwind
 * data: x86 images have no .pdata. */
void synth_code_generate_x86(const synth_function *f, const synth_call *calls, size_t call_count,
                             synth_code *out);
void synth_code_free(synth_code *code);
/* Offset of the E8 opcode of the direct call returning at `return_offset`,
 * or -1 when there is none. */
long synth_code_call_at(const synth_code *code, uint32_t return_offset);

/* UNWIND_INFO for `f` (which must be SYNTH_FUNC_FRAME and not INDIRECT).
 * For a chained fragment the trailing parent RUNTIME_FUNCTION is written as
 * zeros at *chain_at (an offset into `out`) for the caller to fill in. */
void synth_code_unwind_info(const synth_function *f, const synth_function *parent,
                            const synth_code *code, synth_buf *out, size_t *chain_at);

/* The prolog offset each op takes effect at (its UNWIND_CODE.CodeOffset:
 * the end of its instruction; 0 for a machine frame), for f->op_count ops. */
void synth_code_op_offsets(const synth_function *f, const synth_code *code, uint32_t *out);

/* True when `f` gets a RUNTIME_FUNCTION entry. */
bool synth_function_has_unwind(const synth_function *f);


#endif
