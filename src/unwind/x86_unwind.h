/*
 * One x86 (32-bit) frame at a time: the caller's registers from a STACK WIN
 * / FPO record, from a validated EBP chain, or from bounded stack scanning
 * with call-site checks. Used for x86 dumps and the 32-bit side of WOW64.
 */
#ifndef DT_UNWIND_X86_H
#define DT_UNWIND_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/dump.h"
#include "dumptriage/sym_cfi.h"

typedef struct dt_image_set dt_image_set;

/* The registers an x86 unwind tracks (DT_X86_* numbering for eax..edi). */
typedef struct x86_regs {
    uint32_t gpr[8];         /* DT_X86_EAX .. DT_X86_EDI */
    uint32_t eip;
} x86_regs;

/* What the steps read: dump memory, module images (call sites) and the
 * thread's stack bounds. */
typedef struct x86_unwind_env {
    const dt_dump *dump;
    dt_image_set *images;
    uint64_t stack_low, stack_high;
} x86_unwind_env;

typedef enum x86_win_status {
    X86_WIN_UNWOUND = 0,     /* regs hold the caller's registers */
    X86_WIN_IN_PROLOG,       /* an exact address inside the prolog: not applicable */
    X86_WIN_BAD_PROGRAM,     /* the program failed or did not set $eip and $esp */
} x86_win_status;

typedef struct x86_win_result {
    x86_win_status status;
    dt_sym_cfi_eval eval;    /* why a program failed */
} x86_win_result;

/* Unwinds with a STACK WIN record covering the frame's code. `offset` is
 * the frame's address minus the record's RVA; `exact` says the address is
 * precise (frame 0) rather than a return address. FRAME_DATA records run
 * their program; FPO records without one give the return address at
 * ESP + locals + saved registers. On failure regs are unchanged. */
x86_win_result dt_x86_unwind_win(const x86_unwind_env *env, const dt_sym_win *win,
                                 uint32_t offset, bool exact, x86_regs *regs);

/* EBP chain: [EBP] is the caller's EBP, [EBP+4] the return address. Used
 * only when EBP lies on the stack at or above ESP (at most 128 KiB) and the
 * return address is plausible. */
bool dt_x86_unwind_frame_pointer(const x86_unwind_env *env, x86_regs *regs);

/* Scans `words` stack words upward from ESP for a return address whose call
 * site is verified from code bytes (dump memory or an image). */
bool dt_x86_unwind_scan(const x86_unwind_env *env, size_t words, x86_regs *regs);

#endif
