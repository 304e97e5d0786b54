/*
 * synth_win: Breakpad STACK WIN records for synthetic x86 functions.
 *
 * Frame-pointer functions (mov ebp, esp) get no record: debuggers walk them
 * by the EBP chain. Leaf functions and syscall stubs get an FPO record
 * (type 0, no program: the return address is at [esp]). Other frame
 * functions (FPO: pushes and `sub esp` without a frame pointer) get a
 * FRAME_DATA record (type 4) whose program recovers $eip, $esp and each
 * pushed register from .raSearch.
 */
#ifndef SYNTH_WIN_H
#define SYNTH_WIN_H

#include <stdint.h>
#include <stdio.h>

#include "synth_code.h"

/* Writes the STACK WIN line of `f` (whose code is `code`, at `rva`), if any. */
void synth_write_stack_win(FILE *out, const synth_function *f, const synth_code *code,
                           uint32_t rva);

#endif
