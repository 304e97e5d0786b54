/*
 * synth_text: a run of synthetic functions placed at an address (a PE's
 * .text section or a JIT code region), with their call sites linked.
 *
 * Calls inside the run are direct `call rel32`. Calls that leave the run go
 * through an import-style thunk placed after the functions, `jmp [rip+slot]`,
 * whose 8-byte slot holds the target address; the owner of the run places
 * the slots (a PE puts them in .rdata as its import address table).
 *
 * Use: add functions and calls, then synth_text_layout; addresses and code
 * are known from then on. A call target in another run needs that run laid
 * out before synth_text_emit.
 */
#ifndef SYNTH_TEXT_H
#define SYNTH_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synth_code.h"

typedef struct synth_text synth_text;

/* A call target: function `function` of `text`, or (text NULL) an address. */
typedef struct synth_target {
    const synth_text *text;
    int function;
    uint64_t address;
} synth_target;

/* A run of x64 (SYNTH_CPU_AMD64) or x86 code. */
synth_text *synth_text_new(synth_cpu cpu);
void synth_text_free(synth_text *t);

/* Copies `f` (names and ops included); returns its index. */
int synth_text_add_function(synth_text *t, const synth_function *f);
/* Adds a call site in `function` returning at `return_offset`. Adding the
 * same site again with another target makes it an indirect call, and so is
 * a call to a function of another run that is not exported (a virtual or
 * function-pointer call); calls to exports of another run go through an
 * import thunk. */
void synth_text_add_call(synth_text *t, int function, uint32_t return_offset, synth_target target);
size_t synth_text_function_count(const synth_text *t);
const synth_function *synth_text_function(const synth_text *t, int function);
/* Index of the function named `name`, or -1. */
int synth_text_find(const synth_text *t, const char *name);
/* Whether `function` has a call site returning at `return_offset`, and
 * whether it is indirect; *target is set for a direct one. */
bool synth_text_call_target(const synth_text *t, int function, uint32_t return_offset,
                            synth_target *target, bool *indirect);

/* Generates code and places the functions (16-byte aligned, int3 between)
 * from `address`, then the thunks; returns the total size. */
uint32_t synth_text_layout(synth_text *t, uint64_t address);
uint32_t synth_text_size(const synth_text *t);
uint64_t synth_text_function_address(const synth_text *t, int function);
const synth_code *synth_text_code(const synth_text *t, int function);
/* The primary function of a fragment, or the function itself. */
int synth_text_primary(const synth_text *t, int function);
size_t synth_text_thunk_count(const synth_text *t);
synth_target synth_text_thunk_target(const synth_text *t, size_t thunk);
uint64_t synth_text_thunk_address(const synth_text *t, size_t thunk);

/* The address a target resolves to (its text must be laid out). */
uint64_t synth_target_address(synth_target target);

/* Size of a thunk's slot: 8 bytes for x64, 4 for x86. */
uint32_t synth_text_slot_size(const synth_text *t);
/* Writes synth_text_size bytes of linked code; thunk i jumps through the
 * slot at slots_address + i * slot size (x64: jmp [rip+disp32]; x86:
 * jmp [abs32]). */
void synth_text_emit(const synth_text *t, uint64_t slots_address, uint8_t *out);
/* Writes the slot values (the targets' addresses). */
void synth_text_emit_slots(const synth_text *t, uint8_t *out);

#endif
