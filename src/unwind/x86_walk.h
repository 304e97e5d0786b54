/* Walking one x86 (or WOW64 32-bit) thread stack, frame by frame. */
#ifndef DT_UNWIND_X86_WALK_H
#define DT_UNWIND_X86_WALK_H

#include "dumptriage/symbolizer.h"
#include "dumptriage/unwind.h"
#include "unwind/x86_unwind.h"

/* Receives the frames, innermost first; `frame` returns false when out of
 * memory (the walk stops), `warn` reports damaged unwind data. */
typedef struct x86_frame_sink {
    bool (*frame)(void *ctx, uint64_t ip, uint64_t sp, bool exact, dt_frame_trust trust);
    void (*warn)(void *ctx, uint64_t ip, const char *detail);
    void *ctx;
} x86_frame_sink;

typedef struct x86_walk_input {
    x86_unwind_env env;
    dt_symbolizer *symbolizer; /* STACK WIN / FPO records; may be NULL */
    size_t max_frames;
    x86_regs start;            /* frame 0, exact */
} x86_walk_input;

/* Walks frame 0 and its callers: a STACK WIN / FPO record (cfi), else the
 * EBP chain (frame_pointer), else scanning (scan). Returns why the walk
 * ended, or NULL when the sink ran out of memory. */
const char *dt_x86_walk(const x86_walk_input *in, const x86_frame_sink *sink);

#endif
