/*
 * synth_stack: lays out an x64 thread stack from a list of frames so that
 * an exact unwinder (RtlVirtualUnwind semantics) recovers exactly them.
 *
 * Each frame is (function, offset). The builder replays execution from the
 * outermost frame inward: a frame's prolog pushes and saves the register
 * values its caller had (into the slots its UNWIND_INFO names), then the
 * function gives those registers new values; the call into the next frame
 * writes the return address (caller offset, just after its `call rel32`), or,
 * when the callee starts with a machine frame, the processor pushes RIP, CS,
 * EFLAGS, RSP and SS of the interrupted frame. A frame whose offset lies in
 * its prolog or an epilog gets exactly the partial frame that code built.
 * Locals, home areas and the space below the innermost RSP hold decoy
 * pointers (return addresses just after calls in other functions) and
 * data, so a scanning unwinder goes wrong where an exact one does not.
 *
 * Frames given as (caller, offset) must be consistent: the caller's call
 * site at that offset must target the callee (aborts otherwise); on x86 a
 * syscall stub's `call [edx]` return offset may have any callee (the
 * KiFastSystemCall path, as in x86 stacks: KiFastSystemCallRet above
 * NtWaitForSingleObject+0xc).
 */
#ifndef SYNTH_STACK_H
#define SYNTH_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "synth_dump.h"
#include "synth_text.h"

typedef struct synth_frame {
    const synth_text *text;
    int function;
    uint32_t offset;
} synth_frame;

typedef struct synth_stack_spec {
    const synth_frame *frames; /* [0] is the innermost frame */
    size_t frame_count;
    uint64_t stack_base;       /* one past the highest stack byte (16-aligned) */
    const uint64_t *decoys;    /* candidate decoy return addresses */
    size_t decoy_count;
    uint32_t seed;             /* varies register values and decoy choice */
    synth_cpu cpu;             /* SYNTH_CPU_AMD64, or SYNTH_CPU_X86: 4-byte stack
                                  slots, an x86 context, return addresses pushed
                                  by call (frames need x86 code) */
} synth_stack_spec;

/* What an exact unwinder recovers for one frame: its instruction pointer,
 * stack pointer and the non-volatile integer registers (unwind numbering;
 * RAX, RCX, RDX, R8-R11 are not meaningful). */
typedef struct synth_unwound {
    uint64_t pc;
    uint64_t sp;
    uint64_t regs[16];
} synth_unwound;

typedef struct synth_stack {
    uint64_t start;            /* address of bytes[0] */
    uint8_t *bytes;            /* stack memory up to stack_base */
    size_t size;
    synth_context context;     /* context of the innermost frame (the spec's CPU) */
    synth_unwound *frames;     /* frame_count entries, [0] innermost */
    size_t frame_count;
} synth_stack;

void synth_stack_build(const synth_stack_spec *spec, synth_stack *out);
void synth_stack_free(synth_stack *stack);

/* True when the register is non-volatile in the Windows x64 ABI. */
int synth_is_nonvolatile(unsigned reg);

#endif
