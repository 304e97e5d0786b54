/*
 * WOW64: a 32-bit process on 64-bit Windows dumped by a 64-bit writer. The
 * threads' contexts are the 64-bit side (wow64cpu); the 32-bit registers
 * live in each thread's WOW64 CPU area, found through the 64-bit TEB.
 */
#ifndef DT_UNWIND_WOW64_H
#define DT_UNWIND_WOW64_H

#include <stdbool.h>
#include <stdint.h>

#include "dumptriage/dump.h"

typedef struct dt_image_set dt_image_set;

/* True for an AMD64 dump whose module list holds wow64.dll or wow64cpu.dll
 * and whose main module is 32-bit: its image's machine is i386 when the
 * image is available, else it lies wholly below 4 GiB. */
bool dt_wow64_process(const dt_dump *dump, dt_image_set *images);

/* Reads the thread's 32-bit context (x86 registers) from its WOW64 CPU
 * area; false when the TEB, the area or the context is not in the dump or
 * the area is not for an i386 guest. */
bool dt_wow64_context(const dt_dump *dump, const dt_thread *thread, dt_context *out);

/* The 32-bit stack's [limit, base) from the 32-bit TEB (NT_TIB32 at
 * TEB64 + 0x2000); false when it is not in the dump. */
bool dt_wow64_stack_bounds(const dt_dump *dump, const dt_thread *thread, uint64_t *low,
                           uint64_t *high);

#endif
