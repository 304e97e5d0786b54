/*
 * Fuzz target: x86 and WOW64 stack walking on hostile dumps, and STACK WIN
 * programs run against hostile stacks. Input: a 2-byte little-endian
 * program length, the program text, 8 bytes of record sizes (prolog, saved
 * registers, locals, flags), then the minidump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/dump.h"
#include "dumptriage/image.h"
#include "dumptriage/unwind.h"
#include "unwind/x86_unwind.h"

enum { HEADER = 2, SIZES = 8 };

/* A STACK WIN record from the input: FRAME_DATA with the program, or FPO
 * without one when flags bit 0 is clear. */
static dt_sym_win record_from(const uint8_t *sizes, const char *program, size_t length)
{
    dt_sym_win win = {.type = DT_SYM_WIN_FRAME_DATA, .code_size = 0x1000};
    win.prolog_size = sizes[0];
    win.saved_regs_size = (uint32_t)sizes[1] * 4;
    win.locals_size = (uint32_t)(sizes[2] | sizes[3] << 8) * 4;
    win.has_program = sizes[4] & 1;
    win.allocates_base_pointer = (sizes[4] >> 1) & 1;
    win.program = program;
    win.program_length = length;
    return win;
}

/* Every unwind step from each x86 thread's context, on its own stack. */
static void steps_on_threads(const dt_dump *dump, dt_image_set *images, const dt_sym_win *win)
{
    size_t n;
    const dt_thread *threads = dt_dump_threads(dump, &n);
    for (size_t i = 0; i < n && i < 64; i++) {
        const dt_context *c = &threads[i].context;
        if (!threads[i].has_context || c->cpu != DT_CPU_X86)
            continue;
        x86_unwind_env env = {dump, images, threads[i].stack_start,
                              threads[i].stack_start + threads[i].stack_size};
        x86_regs regs = {.eip = (uint32_t)c->regs[DT_X86_EIP]};
        for (int r = 0; r < 8; r++)
            regs.gpr[r] = (uint32_t)c->regs[r];
        x86_regs copy = regs;
        dt_x86_unwind_win(&env, win, 0x10, false, &copy);
        copy = regs;
        dt_x86_unwind_frame_pointer(&env, &copy);
        copy = regs;
        dt_x86_unwind_scan(&env, 64, &copy);
    }
}

static void walk(const dt_dump *dump, dt_image_set *images, bool native)
{
    dt_walk_options options = {.max_frames = 256, .images = images};
    dt_walk_x86_options x86 = {NULL, native};
    dt_stacks *stacks;
    if (dt_walk_threads_ex(&stacks, dump, &options, &x86) == DT_OK)
        dt_stacks_free(stacks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER + SIZES)
        return 0;
    size_t length = (size_t)(data[0] | data[1] << 8);
    if (length > size - HEADER - SIZES)
        return 0;
    const char *program = (const char *)data + HEADER;
    const uint8_t *sizes = data + HEADER + length;
    const uint8_t *bytes = sizes + SIZES;
    dt_dump *dump;
    dt_error err;
    if (dt_dump_open_memory(&dump, bytes, size - HEADER - SIZES - length, "fuzz.dmp", &err) !=
        DT_OK)
        return 0;
    dt_image_search search = {NULL, 0, false, true, true};
    dt_image_set *images = NULL;
    if (dt_image_set_new(&images, dump, &search, &err) == DT_OK) {
        dt_sym_win win = record_from(sizes, program, length);
        steps_on_threads(dump, images, &win);
        walk(dump, images, false);
        walk(dump, images, true);
        dt_image_set_free(images);
    }
    dt_dump_free(dump);
    return 0;
}
