/*
 * dumptriage: unwind records of a Breakpad .sym file, for the stack walkers.
 *
 * A .sym file (opened with dt_sym_open, symbols.h) carries two kinds of
 * unwind data:
 *   STACK CFI INIT addr size rules / STACK CFI addr rules  (x64, ARM, ...)
 *   STACK WIN type rva code prolog epilog params saved locals maxstack
 *             hasprog program|allocates_base_pointer       (x86 Windows)
 * Rules and programs are postfix expressions over registers ("$rsp", "$ebp"),
 * pseudo-registers (".cfa", ".ra", "$T0", ".raSearch") and decimal numbers.
 * This header finds the records that cover an RVA and evaluates their
 * expressions through caller-supplied callbacks; it never reads target memory
 * itself.
 *
 * Text returned here points into the mapped .sym file: it is not
 * NUL-terminated (use the lengths) and stays valid until dt_sym_free.
 * A dt_sym_file is not safe for concurrent use (lookups fill caches).
 */
#ifndef DUMPTRIAGE_SYM_CFI_H
#define DUMPTRIAGE_SYM_CFI_H

#include "dumptriage/symbols.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MODULE os cpu id name / INFO CODE_ID id [file]. Absent fields are "". */
typedef struct dt_sym_module_info {
    const char *os;          /* "windows", "Mac", "Linux" */
    const char *cpu;         /* "x86_64", "x86", "arm64" */
    const char *debug_id;    /* 33 hex digits for PDB70 ids */
    const char *debug_file;  /* "dump_syms_regtest64.pdb" */
    const char *code_id;     /* TimeDateStamp + SizeOfImage for PE */
    const char *code_file;   /* "" when the INFO CODE_ID record has none */
} dt_sym_module_info;

void dt_sym_module(const dt_sym_file *sym, dt_sym_module_info *out);

/* ---- STACK CFI ------------------------------------------------------------ */

/* One rules string: the INIT record's, or one delta record's. */
typedef struct dt_sym_cfi_rules {
    uint64_t rva;            /* address the rules take effect at */
    const char *text;        /* ".cfa: $rsp 8 + .ra: .cfa 8 - ^" */
    size_t length;
} dt_sym_cfi_rules;

/* The CFI in effect at an RVA: the covering INIT record's rules followed by
 * the delta records whose address is at or below the RVA, in file order.
 * A later rule for a register replaces an earlier one. */
typedef struct dt_sym_cfi {
    uint64_t init_rva;       /* STACK CFI INIT address */
    uint64_t init_size;      /* STACK CFI INIT size */
    size_t rules_count;      /* >= 1: rules[0] is the INIT record's */
    const dt_sym_cfi_rules *rules;
} dt_sym_cfi;

/* Fills `out` for the STACK CFI INIT record covering `rva`; false when none
 * covers it. `out->rules` is valid until the next dt_sym_find_cfi call on
 * this file or dt_sym_free. Malformed delta records are skipped with a
 * diagnostic. */
bool dt_sym_find_cfi(dt_sym_file *sym, uint64_t rva, dt_sym_cfi *out);

/* One "REGISTER: expression" pair of a rules string. */
typedef struct dt_sym_cfi_rule {
    const char *reg;         /* ".cfa", ".ra", "$rbp" (without the colon) */
    size_t reg_length;
    const char *expr;        /* "$rsp 8 +" */
    size_t expr_length;
} dt_sym_cfi_rule;

/* Splits the next rule off `*text` (advancing it; `end` bounds the text).
 * False at the end of the text, or when the text does not start with a
 * "NAME:" token or a rule has an empty expression (the rest is skipped). */
bool dt_sym_cfi_next_rule(const char **text, const char *end, dt_sym_cfi_rule *out);

/* The rule for register `reg` ("$rbp", ".cfa") in effect in `cfi`: the
 * last one across rules[0..rules_count). False when no rule names it. */
bool dt_sym_cfi_rule_for(const dt_sym_cfi *cfi, const char *reg, dt_sym_cfi_rule *out);

/* ---- Postfix evaluation ---------------------------------------------------- */

/* What the evaluator may ask of the caller. Register and pseudo-register
 * names are passed with their length and without a terminating NUL. */
typedef struct dt_sym_cfi_env {
    /* The value of `name`; false when it is unknown. Required. */
    bool (*get_register)(void *ctx, const char *name, size_t length, uint64_t *value);
    /* Reads the address-sized value at `address` for the `^` operator;
     * NULL makes every dereference fail. */
    bool (*read_memory)(void *ctx, uint64_t address, uint64_t *value);
    /* Stores `value` in `name` for the `=` operator of STACK WIN programs;
     * NULL makes every assignment fail. */
    bool (*set_register)(void *ctx, const char *name, size_t length, uint64_t value);
    void *ctx;
    unsigned address_size;   /* 4: results wrap at 32 bits; otherwise 64 */
} dt_sym_cfi_env;

typedef enum dt_sym_cfi_eval {
    DT_CFI_EVAL_OK = 0,
    DT_CFI_EVAL_BAD_TOKEN,         /* unknown operator, malformed or overflowing number */
    DT_CFI_EVAL_STACK_UNDERFLOW,   /* an operator without enough operands */
    DT_CFI_EVAL_STACK_OVERFLOW,    /* more than DT_SYM_CFI_STACK_MAX operands */
    DT_CFI_EVAL_DIVIDE_BY_ZERO,    /* `/` or `%` by zero */
    DT_CFI_EVAL_BAD_ALIGNMENT,     /* `@` by zero or a non-power of two */
    DT_CFI_EVAL_UNKNOWN_REGISTER,  /* get_register said no */
    DT_CFI_EVAL_MEMORY,            /* `^` without read_memory, or the read failed */
    DT_CFI_EVAL_ASSIGNMENT,        /* `=` without set_register, to a number, or refused */
    DT_CFI_EVAL_RESULT             /* an expression did not leave exactly one value,
                                      or a program left values behind */
} dt_sym_cfi_eval;

enum {
    DT_SYM_CFI_STACK_MAX = 32,     /* operand stack depth */
    DT_SYM_CFI_TOKEN_MAX = 4096    /* tokens per expression or program */
};

/* "ok", "bad token", "stack underflow", ... */
const char *dt_sym_cfi_eval_name(dt_sym_cfi_eval result);

/* Evaluates one postfix expression ("$rsp 8 +", ".cfa 8 - ^") to a value.
 * Tokens are separated by spaces. Operands: decimal numbers (optionally
 * negative; they wrap to unsigned), and any other token that does not end
 * in an operator character is a register name. Binary operators
 * + - * / % (unsigned, wrapping) and @ (align down to a power of two);
 * unary ^ (dereference). Iterative, with a bounded stack. */
dt_sym_cfi_eval dt_sym_cfi_evaluate(const char *expr, size_t length, const dt_sym_cfi_env *env,
                                    uint64_t *out);

/* Runs a STACK WIN program ("$T0 $ebp = $eip $T0 4 + ^ = ..."): as
 * dt_sym_cfi_evaluate, plus `name value =` assignments through
 * env->set_register; the stack must be empty at the end. */
dt_sym_cfi_eval dt_sym_win_run_program(const char *program, size_t length,
                                       const dt_sym_cfi_env *env);

/* ---- STACK WIN --------------------------------------------------------- */

typedef enum dt_sym_win_type {
    DT_SYM_WIN_FPO = 0,
    DT_SYM_WIN_TRAP = 1,
    DT_SYM_WIN_TSS = 2,
    DT_SYM_WIN_STANDARD = 3,
    DT_SYM_WIN_FRAME_DATA = 4
} dt_sym_win_type;

/* STACK WIN type rva code_size prolog_size epilog_size parameter_size
 * saved_regs_size locals_size max_stack_size has_program program|allocbp */
typedef struct dt_sym_win {
    dt_sym_win_type type;
    uint32_t rva;
    uint32_t code_size;
    uint32_t prolog_size;
    uint32_t epilog_size;
    uint32_t parameter_size;
    uint32_t saved_regs_size;
    uint32_t locals_size;
    uint32_t max_stack_size;
    bool has_program;
    const char *program;     /* when has_program; not NUL-terminated */
    size_t program_length;
    bool allocates_base_pointer; /* when !has_program */
} dt_sym_win;

/* The STACK WIN record covering `rva`, preferring FRAME_DATA, then FPO, then
 * the other types; false when none covers it. */
bool dt_sym_find_win(const dt_sym_file *sym, uint32_t rva, dt_sym_win *out);

#ifdef __cplusplus
}
#endif

#endif
