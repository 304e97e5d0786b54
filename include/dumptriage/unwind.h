/*
 * dumptriage: stack walking.
 *
 * dt_walk_threads walks every thread of a dump: x64 the way the Windows x64
 * unwinder does, from the modules' .pdata/.xdata (UNWIND_INFO); x86 (and the
 * 32-bit side of WOW64 processes) from STACK WIN / FPO records of the
 * symbols, the EBP chain and scanning. It says how far each frame can be
 * trusted:
 *   context        the thread's (or the exception's) register context;
 *   cfi            recovered from unwind data (.pdata, FunctionTable stream,
 *                  STACK WIN / FPO records);
 *   frame_pointer  from a frame-pointer chain that validated;
 *   scan           a return address found by bounded stack scanning, just
 *                  after a CALL instruction whenever the code bytes exist.
 * The faulting thread starts from the exception stream's context.
 */
#ifndef DUMPTRIAGE_UNWIND_H
#define DUMPTRIAGE_UNWIND_H

#include "dumptriage/dump.h"
#include "dumptriage/image.h"
#include "dumptriage/symbolizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dt_frame_trust {
    DT_TRUST_CONTEXT = 0,
    DT_TRUST_CFI = 1,
    DT_TRUST_FRAME_POINTER = 2,
    DT_TRUST_SCAN = 3
} dt_frame_trust;

const char *dt_frame_trust_name(dt_frame_trust trust); /* "context", "cfi", ... */

typedef struct dt_frame {
    uint64_t ip;             /* instruction address; a return address for callers */
    uint64_t sp;             /* stack pointer in this frame */
    dt_frame_trust trust;
    bool exact;              /* ip is precise (frame 0, or restored from a machine
                                frame); otherwise it is a return address */
    const dt_module *module; /* NULL when ip lies in no module */
    /* Filled by dt_stacks_symbolize; NULL / 0 when unknown. */
    const char *function;
    uint64_t function_offset; /* ip - function start */
    const char *file;
    uint32_t line;
    size_t inline_count;     /* functions inlined at this address, innermost first */
    const dt_inline_frame *inlines;
    /* For addresses in no module: the MemoryInfoList region, when present. */
    bool has_region;
    uint32_t region_type;    /* MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE */
    uint32_t region_protect;
    bool likely_jit;         /* private executable memory: managed or generated code */
    bool on_stack;           /* ip lies in the thread's own stack (code run from the stack) */
} dt_frame;

typedef struct dt_thread_stack {
    const dt_thread *thread;
    bool from_exception;     /* started from the exception stream's context */
    bool wow64;              /* the 32-bit stack of a WOW64 thread (from its WOW64 context) */
    size_t frame_count;
    dt_frame *frames;
    const char *end_reason;  /* why the walk stopped, e.g. "return address is zero" */
} dt_thread_stack;

typedef struct dt_image_set dt_image_set;

typedef struct dt_walk_options {
    size_t max_frames;       /* 0 selects 1024 */
    dt_image_set *images;    /* may be NULL: no images, fallbacks only */
    uint64_t deadline_ns;    /* CLOCK_MONOTONIC nanoseconds after which threads not
                                yet walked (or named) are left without frames (or
                                names), with a diagnostic; 0: no deadline */
} dt_walk_options;

/* What x86 and WOW64 walks use besides dt_walk_options (a separate struct,
 * so that existing initializers of dt_walk_options stay complete). */
typedef struct dt_walk_x86_options {
    dt_symbolizer *symbolizer; /* STACK WIN / FPO records; may be NULL */
    bool wow64_native;       /* WOW64 processes: walk the 64-bit side instead of
                                the 32-bit stacks */
} dt_walk_x86_options;

typedef struct dt_stacks dt_stacks;

/* Walks every thread. Never fails on bad data: damage ends a walk with an
 * end_reason and a diagnostic. Returns DT_ERR_NOMEM only when out of memory. */
dt_status dt_walk_threads(dt_stacks **out, const dt_dump *dump, const dt_walk_options *options);
/* The same with x86 options (`x86` may be NULL). A WOW64 process (a 32-bit
 * process dumped by a 64-bit writer) is walked on its 32-bit side unless
 * x86->wow64_native is set. */
dt_status dt_walk_threads_ex(dt_stacks **out, const dt_dump *dump, const dt_walk_options *options,
                             const dt_walk_x86_options *x86);
const dt_thread_stack *dt_stacks_threads(const dt_stacks *stacks, size_t *count);
const dt_diagnostic *dt_stacks_diagnostics(const dt_stacks *stacks, size_t *count);
/* Whether the deadline left any thread unwalked or unnamed. */
bool dt_stacks_cut_short(const dt_stacks *stacks);

/* Threads with identical frame lists (by instruction address), largest group
 * first, then by the position of the group's first thread. */
typedef struct dt_stack_group {
    size_t thread_count;
    const size_t *threads;   /* indices into dt_stacks_threads, ascending */
} dt_stack_group;
const dt_stack_group *dt_stacks_groups(const dt_stacks *stacks, size_t *count);
void dt_stacks_free(dt_stacks *stacks);

/* Names every frame from the symbolizer: function, offset, file, line and
 * inline frames (copied into the stacks). Caller frames are looked up at
 * ip-1, the call instruction. On x86 the unwind data lives in the symbols
 * (STACK WIN / FPO), so x86 and WOW64 threads walked without a symbolizer
 * are first walked again with this one (and the stacks regrouped).
 * Returns DT_ERR_NOMEM only when out of memory. */
dt_status dt_stacks_symbolize(dt_stacks *stacks, dt_symbolizer *symbolizer);

/* Formats a frame WinDbg-style: "ntdll!NtWaitForAlertByThreadId+0x14",
 * "app+0x1f2a" without a name, "0x1c1bbd9" outside modules. */
void dt_frame_display(const dt_frame *frame, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif
