/*
 * Virtual unwinding of one x64 frame from UNWIND_INFO, as the Windows
 * unwinder does it (Microsoft "x64 exception handling": RUNTIME_FUNCTION,
 * UNWIND_INFO, UNWIND_CODE; version 2 epilog codes).
 */
#ifndef DT_UNWIND_X64_H
#define DT_UNWIND_X64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/dump.h"
#include "dumptriage/image.h"

/* Integer registers in unwind numbering (0 RAX .. 15 R15) and RIP. */
typedef struct x64_regs {
    uint64_t gpr[16];
    uint64_t rip;
} x64_regs;

/* Where unwind data comes from: a module image, or a FunctionTable stream
 * whose UNWIND_INFO lives in dump memory. RVAs are relative to `base`. */
typedef struct x64_unwind_source {
    uint64_t base;
    /* Finds the RUNTIME_FUNCTION covering `rva` (resolving indirect entries). */
    dt_status (*find)(const void *ctx, uint32_t rva, dt_runtime_function *entry,
                      dt_runtime_function *primary);
    /* Reads unwind data or code bytes at `rva`; returns the bytes available. */
    size_t (*read)(const void *ctx, uint32_t rva, void *buf, size_t n);
    const void *ctx;
} x64_unwind_source;

typedef enum x64_unwind_status {
    X64_UNWOUND = 0,      /* regs now hold the caller's registers */
    X64_NO_FUNCTION,      /* no RUNTIME_FUNCTION covers the address */
    X64_BAD_UNWIND_DATA,  /* UNWIND_INFO unreadable or invalid */
    X64_STACK_MISSING     /* a saved value lies in memory absent from the dump */
} x64_unwind_status;

typedef struct x64_unwind_result {
    x64_unwind_status status;
    bool machine_frame;   /* the caller was restored from a machine frame (exact ip) */
    bool in_epilog;
    const char *detail;   /* a short reason when status != X64_UNWOUND */
} x64_unwind_result;

/* Unwinds one frame. `exact` says regs->rip is a precise address (frame 0,
 * or restored from a machine frame), so prolog and epilog state apply;
 * otherwise it is a return address and the function is looked up at rip-1.
 * Stack values are read from `dump`; code bytes from the dump, else the
 * source. On failure regs are unchanged. */
x64_unwind_result dt_x64_unwind_frame(const x64_unwind_source *source, const dt_dump *dump,
                                      x64_regs *regs, bool exact);

/* Unwind source over a module image. */
x64_unwind_source dt_x64_image_source(const dt_image *image, uint64_t base);

#endif
