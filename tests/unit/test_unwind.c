/*
 * Unit tests of the x64 unwinder (src/unwind/x64_unwind.c) and the call-site
 * check, with hand-assembled UNWIND_INFO and code bytes in a small in-memory
 * "image" and stack memory in a synthetic dump. Each case is one of the
 * situations real unwinders get wrong (shared FORMATS.md section 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "synth_dump.h"
#include "dumptriage/unwind.h"
#include "unwind/return_address.h"
#include "unwind/x64_unwind.h"

enum { BASE = 0x180000000ull, STACK = 0x10000, IMAGE_SIZE = 0x3000, MAX_FUNCTIONS = 4,
       RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R12 = 12, R15 = 15 };

/* Unwind codes: UNWIND_CODE byte 0 CodeOffset, byte 1 op | info << 4. */
#define PUSH(offset, reg) (offset), (0 | (reg) << 4)
#define ALLOC_SMALL(offset, size) (offset), (2 | (((size) - 8) / 8) << 4)
#define SET_FPREG(offset) (offset), 3
#define SAVE_NONVOL(offset, reg, scaled) (offset), (4 | (reg) << 4), (scaled) & 0xFF, (scaled) >> 8
#define MACHFRAME(offset, error) (offset), (10 | (error) << 4)

typedef struct fake_image {
    uint8_t bytes[IMAGE_SIZE];
    dt_runtime_function functions[MAX_FUNCTIONS];
    dt_runtime_function primaries[MAX_FUNCTIONS];
    size_t function_count;
    uint32_t readable_end;   /* reads at or past it find nothing; 0 = IMAGE_SIZE */
} fake_image;

static dt_status fake_find(const void *ctx, uint32_t rva, dt_runtime_function *entry,
                           dt_runtime_function *primary)
{
    const fake_image *img = ctx;
    for (size_t i = 0; i < img->function_count; i++)
        if (rva >= img->functions[i].begin && rva < img->functions[i].end) {
            *entry = img->functions[i];
            *primary = img->primaries[i];
            return DT_OK;
        }
    return DT_ERR_NOT_FOUND;
}

static size_t fake_read(const void *ctx, uint32_t rva, void *buf, size_t n)
{
    const fake_image *img = ctx;
    uint32_t end = img->readable_end ? img->readable_end : IMAGE_SIZE;
    if (rva >= end)
        return 0;
    size_t available = end - rva < n ? end - rva : n;
    memcpy(buf, img->bytes + rva, available);
    return available;
}

/* A function [begin, end) whose UNWIND_INFO sits at `info_rva`. */
static void add_function(fake_image *img, uint32_t begin, uint32_t end, uint32_t info_rva,
                         const uint8_t *info, size_t info_size)
{
    dt_runtime_function f = {begin, end, info_rva};
    img->functions[img->function_count] = f;
    img->primaries[img->function_count++] = f;
    memcpy(img->bytes + info_rva, info, info_size);
}

/* Stack words at STACK.., in a dump of nothing else. */
typedef struct stack_dump {
    synth_buf bytes;
    dt_dump *dump;
} stack_dump;

static void make_stack(stack_dump *s, const uint64_t *words, size_t count)
{
    synth_dump *d = synth_dump_new();
    uint8_t buffer[64 * 8];
    for (size_t i = 0; i < count; i++)
        synth_put_u64(buffer + 8 * i, words[i]);
    synth_dump_add_memory(d, STACK, buffer, 8 * count);
    synth_buf_init(&s->bytes);
    synth_dump_write(d, &s->bytes);
    synth_dump_free(d);
    dt_error err;
    assert_int_equal(dt_dump_open_memory(&s->dump, s->bytes.data, s->bytes.size, "s.dmp", &err),
                     DT_OK);
}

static void free_stack(stack_dump *s)
{
    dt_dump_free(s->dump);
    synth_buf_free(&s->bytes);
}

static x64_unwind_result unwind(fake_image *img, const stack_dump *s, x64_regs *regs, bool exact)
{
    x64_unwind_source source = {BASE, fake_find, fake_read, img};
    return dt_x64_unwind_frame(&source, s->dump, regs, exact);
}

/* push rbx; push rsi; sub rsp, 0x20 — in the body, a caller frame. */
static void test_push_and_alloc_small(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 6, 3, 0, ALLOC_SMALL(6, 0x20), PUSH(2, RSI), PUSH(1, RBX)};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    /* rsp -> 4 words of locals, saved rsi, saved rbx, return address */
    const uint64_t words[] = {0, 0, 0, 0, 0x5151, 0xb0b0, BASE + 0x1234};
    stack_dump s;
    make_stack(&s, words, 7);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK;
    x64_unwind_result r = unwind(&img, &s, &regs, false);
    assert_int_equal(r.status, X64_UNWOUND);
    assert_int_equal(regs.rip, BASE + 0x1234);
    assert_int_equal(regs.gpr[RSP], STACK + 7 * 8);
    assert_int_equal(regs.gpr[RSI], 0x5151);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    free_stack(&s);
}

/* Exact frame in the middle of the prolog: only `push rbx` has run. */
static void test_partial_prolog(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 6, 3, 0, ALLOC_SMALL(6, 0x20), PUSH(2, RSI), PUSH(1, RBX)};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint64_t words[] = {0xb0b0, BASE + 0x1234};
    stack_dump s;
    make_stack(&s, words, 2);
    x64_regs regs = {.rip = BASE + 0x1001}; /* just after push rbx (CodeOffset 1) */
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, true).status, X64_UNWOUND);
    assert_int_equal(regs.rip, BASE + 0x1234);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    assert_int_equal(regs.gpr[RSP], STACK + 16);
    free_stack(&s);
}

/* A return address inside the prolog (a call to __chkstk before the large
 * allocation) must not apply the allocation that has not run yet. */
static void test_return_address_inside_prolog(void **state)
{
    (void)state;
    fake_image img = {0};
    /* push rbp (1); mov eax, N; call __chkstk (ends at 0xE); sub rsp, rax (0x11) */
    const uint8_t info[] = {1, 0x11, 3, 0, 0x11, 1 | 0 << 4, 0x00, 0x02, PUSH(1, RBP)};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint64_t words[] = {0x7777, BASE + 0x1500};
    stack_dump s;
    make_stack(&s, words, 2);
    x64_regs regs = {.rip = BASE + 0x100E};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.rip, BASE + 0x1500);
    assert_int_equal(regs.gpr[RBP], 0x7777);
    free_stack(&s);
}

/* ALLOC_LARGE with a scaled 16-bit size (info 0) and an unscaled 32-bit
 * size (info 1). */
static void test_alloc_large(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t small_info[] = {1, 8, 2, 0, 8, 1, 0x02, 0x00};          /* 2*8 = 16 */
    const uint8_t large_info[] = {1, 8, 3, 0, 8, 1 | 1 << 4, 0x18, 0, 0, 0, 0, 0}; /* 0x18 */
    add_function(&img, 0x1000, 0x1100, 0x2000, small_info, sizeof small_info);
    add_function(&img, 0x1100, 0x1200, 0x2100, large_info, sizeof large_info);
    const uint64_t words[] = {0, 0, BASE + 0x1111, BASE + 0x2222};
    stack_dump s;
    make_stack(&s, words, 4);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.rip, BASE + 0x1111);
    regs.rip = BASE + 0x1150;
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.rip, BASE + 0x2222);
    assert_int_equal(regs.gpr[RSP], STACK + 0x20);
    free_stack(&s);
}

/* push rbp; sub rsp, 0x40; lea rbp, [rsp+0x20]; mov [rbp+0x30]... — the
 * frame register points into the frame (FrameOffset 2 = 0x20), then RSP moves
 * (alloca). SAVE_NONVOL is relative to the establisher frame, not to RSP. */
static void test_frame_register_and_save_nonvol(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 0x10, 5, RBP | 2 << 4, SAVE_NONVOL(0x10, RSI, 6), SET_FPREG(0xA),
                            ALLOC_SMALL(5, 0x40), PUSH(1, RBP), 0, 0};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    uint64_t words[16] = {0};
    /* establisher frame F = STACK + 0x20 (0x40 of locals below the saved rbp
     * at F + 0x40); rbp = F + 0x20; rsi saved at F + 6*8. */
    words[0x20 / 8 + 6] = 0x5151;
    words[0x60 / 8] = 0xbbbb;          /* saved rbp */
    words[0x68 / 8] = BASE + 0x1999;   /* return address */
    stack_dump s;
    make_stack(&s, words, 16);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK - 0x100;     /* alloca moved RSP far below */
    regs.gpr[RBP] = STACK + 0x20 + 0x20;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[RSI], 0x5151);
    assert_int_equal(regs.gpr[RBP], 0xbbbb);
    assert_int_equal(regs.rip, BASE + 0x1999);
    assert_int_equal(regs.gpr[RSP], STACK + 0x70);
    free_stack(&s);
}

/* SAVE_XMM128 and SAVE_NONVOL_FAR take 2 and 3 slots; the codes after them
 * must still be decoded in step. */
static void test_slot_counts(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 0x20, 6, 0,
                            0x20, 8 | 6 << 4, 0x01, 0x00,                /* SAVE_XMM128 xmm6 */
                            0x18, 5 | R12 << 4, 0x10, 0x00, 0x00, 0x00, /* SAVE_NONVOL_FAR r12 @0x10 */
                            ALLOC_SMALL(4, 0x28)};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint64_t words[] = {0, 0, 0x1212, 0, 0, BASE + 0x1777};
    stack_dump s;
    make_stack(&s, words, 6);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[R12], 0x1212);
    assert_int_equal(regs.rip, BASE + 0x1777);
    free_stack(&s);
}

/* PUSH_MACHFRAME with an error code: RIP at [RSP+8], RSP at [RSP+32]; the
 * caller's address is exact. */
static void test_machine_frame(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 0, 1, 0, MACHFRAME(0, 1), 0, 0};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint64_t words[] = {0xEC, BASE + 0x1abc, 0x33, 0x246, STACK + 0x400, 0x2b};
    stack_dump s;
    make_stack(&s, words, 6);
    x64_regs regs = {.rip = BASE + 0x1010};
    regs.gpr[RSP] = STACK;
    x64_unwind_result r = unwind(&img, &s, &regs, true);
    assert_int_equal(r.status, X64_UNWOUND);
    assert_true(r.machine_frame);
    assert_int_equal(regs.rip, BASE + 0x1abc);
    assert_int_equal(regs.gpr[RSP], STACK + 0x400);
    free_stack(&s);
}

/* Version 1 epilog detected from the code bytes at the exact RIP:
 * add rsp, 0x28; pop rbx; ret. At each instruction the right state. */
static void test_epilog_from_code_bytes(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 5, 2, 0, ALLOC_SMALL(5, 0x28), PUSH(1, RBX)};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint8_t epilog[] = {0x48, 0x83, 0xC4, 0x28, 0x5B, 0xC3};
    memcpy(img.bytes + 0x1080, epilog, sizeof epilog);
    uint64_t words[8] = {0};
    words[5] = 0xb0b0;
    words[6] = BASE + 0x1888;
    stack_dump s;
    make_stack(&s, words, 8);
    x64_regs regs = {.rip = BASE + 0x1084}; /* at pop rbx: the add has run */
    regs.gpr[RSP] = STACK + 0x28;
    x64_unwind_result r = unwind(&img, &s, &regs, true);
    assert_int_equal(r.status, X64_UNWOUND);
    assert_true(r.in_epilog);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    assert_int_equal(regs.rip, BASE + 0x1888);
    regs.rip = BASE + 0x1085; /* at ret */
    regs.gpr[RSP] = STACK + 0x30;
    regs.gpr[RBX] = 0;
    assert_int_equal(unwind(&img, &s, &regs, true).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[RBX], 0); /* already popped */
    assert_int_equal(regs.rip, BASE + 0x1888);
    free_stack(&s);
}

/* lea rsp, [rbp+0x10]; pop rbp; ret with RBP as the frame register. */
static void test_epilog_lea_frame_register(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 8, 3, RBP, SET_FPREG(8), ALLOC_SMALL(5, 0x10), PUSH(1, RBP), 0, 0};
    add_function(&img, 0x1000, 0x1100, 0x2000, info, sizeof info);
    const uint8_t epilog[] = {0x48, 0x8D, 0x65, 0x10, 0x5D, 0xC3};
    memcpy(img.bytes + 0x1090, epilog, sizeof epilog);
    uint64_t words[6] = {0, 0, 0x8888, BASE + 0x1444};
    stack_dump s;
    make_stack(&s, words, 6);
    x64_regs regs = {.rip = BASE + 0x1090};
    regs.gpr[RSP] = STACK - 0x40;
    regs.gpr[RBP] = STACK + 0x10 - 0x10;
    assert_int_equal(unwind(&img, &s, &regs, true).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[RBP], 0x8888);
    assert_int_equal(regs.rip, BASE + 0x1444);
    free_stack(&s);
}

/* Version 2 epilog codes when no code bytes exist: an epilog of 3 bytes
 * (pop rsi; pop rbx; ret) ending at EndAddress, RIP at its second pop. */
static void test_v2_epilog_codes_without_bytes(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {2, 2, 4, 0, 3, 6 | 1 << 4, 0, 6, PUSH(2, RSI), PUSH(1, RBX)};
    add_function(&img, 0x2800, 0x2900, 0x2000, info, sizeof info);
    img.readable_end = 0x2800; /* UNWIND_INFO readable, code bytes absent */
    uint64_t words[2] = {0xb0b0, BASE + 0x1313};
    stack_dump s;
    make_stack(&s, words, 2);
    x64_regs regs = {.rip = BASE + 0x28FE}; /* pop rbx: pop rsi has run */
    regs.gpr[RSP] = STACK;
    x64_unwind_result r = unwind(&img, &s, &regs, true);
    assert_int_equal(r.status, X64_UNWOUND);
    assert_true(r.in_epilog);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    assert_int_equal(regs.gpr[RSI], 0);
    assert_int_equal(regs.rip, BASE + 0x1313);
    assert_int_equal(regs.gpr[RSP], STACK + 16);
    free_stack(&s);
}

/* Chained UNWIND_INFO: the fragment's own codes, then the parent's. */
static void test_chained_info(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t parent[] = {1, 2, 2, 0, PUSH(2, RSI), PUSH(1, RBX)};
    const uint8_t child[] = {1 | 4 << 3, 0, 1, 0, ALLOC_SMALL(0, 0x10), 0, 0,
                             0x00, 0x10, 0, 0, 0x00, 0x11, 0, 0, 0x00, 0x21, 0, 0};
    memcpy(img.bytes + 0x2100, parent, sizeof parent);
    add_function(&img, 0x1200, 0x1300, 0x2000, child, sizeof child);
    uint64_t words[5] = {0, 0, 0x5151, 0xb0b0, BASE + 0x1666};
    stack_dump s;
    make_stack(&s, words, 5);
    x64_regs regs = {.rip = BASE + 0x1250};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[RSI], 0x5151);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    assert_int_equal(regs.rip, BASE + 0x1666);
    free_stack(&s);
}

/* A chain that points at itself is cut at the depth limit. */
static void test_chain_loop_is_bounded(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t looping[] = {1 | 4 << 3, 0, 0, 0, 0x00, 0x10, 0, 0, 0x00, 0x11, 0, 0,
                               0x00, 0x20, 0, 0};
    add_function(&img, 0x1000, 0x1100, 0x2000, looping, sizeof looping);
    uint64_t words[2] = {0, BASE + 0x1234};
    stack_dump s;
    make_stack(&s, words, 2);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK;
    x64_regs before = regs;
    x64_unwind_result r = unwind(&img, &s, &regs, false);
    assert_int_equal(r.status, X64_BAD_UNWIND_DATA);
    assert_memory_equal(&regs, &before, sizeof regs);
    free_stack(&s);
}

/* A cold fragment mapped to its primary function by an indirect entry: the
 * address lies before the primary's start, so it is past the prolog. */
static void test_indirect_fragment(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t info[] = {1, 4, 2, 0, ALLOC_SMALL(4, 0x10), PUSH(1, RBX)};
    add_function(&img, 0x1800, 0x1900, 0x2000, info, sizeof info);
    img.functions[0].begin = 0x1100; /* the fragment */
    img.functions[0].end = 0x1180;
    img.primaries[0].begin = 0x1800;
    uint64_t words[4] = {0, 0, 0xb0b0, BASE + 0x1222};
    stack_dump s;
    make_stack(&s, words, 4);
    x64_regs regs = {.rip = BASE + 0x1102};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, true).status, X64_UNWOUND);
    assert_int_equal(regs.gpr[RBX], 0xb0b0);
    assert_int_equal(regs.rip, BASE + 0x1222);
    free_stack(&s);
}

static void test_refusals(void **state)
{
    (void)state;
    fake_image img = {0};
    const uint8_t v3[] = {3, 0, 0, 0};
    add_function(&img, 0x1000, 0x1100, 0x2000, v3, sizeof v3);
    const uint8_t push[] = {1, 1, 1, 0, PUSH(1, RBX), 0, 0};
    add_function(&img, 0x1100, 0x1200, 0x2010, push, sizeof push);
    uint64_t words[1] = {0};
    stack_dump s;
    make_stack(&s, words, 1);
    x64_regs regs = {.rip = BASE + 0x1050};
    regs.gpr[RSP] = STACK;
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_BAD_UNWIND_DATA);
    regs.rip = BASE + 0x1500; /* no function: a leaf, the caller decides */
    assert_int_equal(unwind(&img, &s, &regs, true).status, X64_NO_FUNCTION);
    regs.rip = BASE + 0x1150;
    regs.gpr[RSP] = STACK + 0x1000; /* saved register outside the dump */
    assert_int_equal(unwind(&img, &s, &regs, false).status, X64_STACK_MISSING);
    free_stack(&s);
}

/* JIT code without an image: its RUNTIME_FUNCTION comes from the dump's
 * FunctionTable stream and its UNWIND_INFO from dump memory, so the caller
 * is recovered from unwind data (cfi), not by scanning. */
static void test_function_table_stream(void **state)
{
    (void)state;
    enum { JIT = 0x20000000 };
    static uint8_t jit[0x200];
    const uint8_t info[] = {1, 4, 1, 0, ALLOC_SMALL(4, 0x20)};
    memcpy(jit + 0x100, info, sizeof info);
    uint8_t table[24 + 32 + 12] = {0};
    const uint32_t header[6] = {24, 32, 0, 12, 1, 0}; /* SizeOfHeader .. SizeOfAlignPad */
    for (int i = 0; i < 6; i++)
        synth_put_u32(table + 4 * i, header[i]);
    synth_put_u64(table + 24, JIT);           /* MinimumAddress */
    synth_put_u64(table + 32, JIT + 0x200);   /* MaximumAddress */
    synth_put_u64(table + 40, JIT);           /* BaseAddress */
    synth_put_u32(table + 48, 1);             /* EntryCount */
    synth_put_u32(table + 56, 0x000);         /* RUNTIME_FUNCTION: Begin */
    synth_put_u32(table + 60, 0x080);         /* End */
    synth_put_u32(table + 64, 0x100);         /* UnwindData */
    uint8_t stack[0x30] = {0};
    synth_put_u64(stack + 0x20, JIT + 0x50);  /* return address into the same JIT function */
    synth_dump *d = synth_dump_new();
    synth_system_info sys = {.cpu = SYNTH_CPU_AMD64, .major = 10, .build = 19041};
    synth_dump_set_system_info(d, &sys);
    synth_thread t = {.id = 7, .stack_start = STACK, .stack = stack, .stack_size = sizeof stack,
                      .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_AMD64);
    t.context.regs[DT_AMD64_RIP] = JIT + 0x40;
    t.context.regs[DT_AMD64_RSP] = STACK;
    synth_dump_add_thread(d, &t);
    synth_dump_add_memory(d, JIT, jit, sizeof jit);
    synth_dump_add_raw_stream(d, SYNTH_STREAM_FUNCTION_TABLE, table, sizeof table);
    synth_buf bytes;
    synth_buf_init(&bytes);
    synth_dump_write(d, &bytes);
    synth_dump_free(d);
    dt_dump *dump;
    dt_error err;
    assert_int_equal(dt_dump_open_memory(&dump, bytes.data, bytes.size, "jit.dmp", &err), DT_OK);
    dt_stacks *stacks;
    assert_int_equal(dt_walk_threads(&stacks, dump, NULL), DT_OK);
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
    assert_true(threads[0].frame_count >= 2);
    assert_int_equal(threads[0].frames[1].ip, JIT + 0x50);
    assert_int_equal(threads[0].frames[1].sp, STACK + 0x28);
    assert_int_equal(threads[0].frames[1].trust, DT_TRUST_CFI);
    dt_stacks_free(stacks);
    dt_dump_free(dump);
    synth_buf_free(&bytes);
}

/* A deadline already past leaves every thread unwalked, with its reason and
 * one diagnostic; a deadline far away changes nothing. */
static void test_deadline(void **state)
{
    (void)state;
    uint8_t stack[0x40] = {0};
    synth_dump *d = synth_dump_new();
    synth_system_info sys = {.cpu = SYNTH_CPU_AMD64, .major = 10, .build = 19041};
    synth_dump_set_system_info(d, &sys);
    for (uint32_t id = 1; id <= 3; id++) {
        synth_thread t = {.id = id, .stack_start = STACK, .stack = stack,
                          .stack_size = sizeof stack, .has_context = true};
        synth_context_init(&t.context, SYNTH_CPU_AMD64);
        t.context.regs[DT_AMD64_RIP] = 0x7000;
        t.context.regs[DT_AMD64_RSP] = STACK;
        synth_dump_add_thread(d, &t);
    }
    synth_buf bytes;
    synth_buf_init(&bytes);
    synth_dump_write(d, &bytes);
    synth_dump_free(d);
    dt_dump *dump;
    dt_error err;
    assert_int_equal(dt_dump_open_memory(&dump, bytes.data, bytes.size, "late.dmp", &err), DT_OK);
    const uint64_t deadlines[] = {1, UINT64_MAX};
    for (int i = 0; i < 2; i++) {
        dt_walk_options options = {.deadline_ns = deadlines[i]};
        dt_stacks *stacks;
        assert_int_equal(dt_walk_threads(&stacks, dump, &options), DT_OK);
        size_t n, diag_count;
        const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
        const dt_diagnostic *diags = dt_stacks_diagnostics(stacks, &diag_count);
        assert_int_equal(n, 3);
        bool past = i == 0;
        assert_int_equal(dt_stacks_cut_short(stacks), past);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(threads[k].frame_count, past ? 0 : 1);
            assert_int_equal(threads[k].thread->id, k + 1);
        }
        if (past) {
            assert_non_null(strstr(threads[2].end_reason, "time budget"));
            assert_int_equal(diag_count, 1);
            assert_string_equal(diags[0].structure, "time budget");
            assert_non_null(strstr(diags[0].message, "3 of 3 threads were not walked"));
        }
        dt_stacks_free(stacks);
    }
    dt_dump_free(dump);
    synth_buf_free(&bytes);
}

static void test_call_site_check(void **state)
{
    (void)state;
    const uint8_t call_rel32[] = {0x90, 0x90, 0x90, 0xE8, 1, 2, 3, 4};
    const uint8_t call_rax[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xFF, 0xD0};
    const uint8_t call_r8[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x41, 0xFF, 0xD0};
    const uint8_t call_iat[] = {0x90, 0x90, 0xFF, 0x15, 1, 2, 3, 4};
    const uint8_t call_sib_disp8[] = {0x90, 0x90, 0x90, 0x90, 0xFF, 0x54, 0x24, 0x08};
    const uint8_t call_disp8[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0xFF, 0x50, 0x08};
    const uint8_t rex_call_disp32[] = {0x90, 0x41, 0xFF, 0x93, 1, 2, 3, 4};
    const uint8_t not_call[] = {0x48, 0x83, 0xC4, 0x28, 0x5B, 0xC3, 0x90, 0x90};
    const uint8_t jmp_reg[] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xFF, 0xE0};
    assert_true(dt_ends_with_call(call_rel32, 8));
    assert_true(dt_ends_with_call(call_rax, 8));
    assert_true(dt_ends_with_call(call_r8, 8));
    assert_true(dt_ends_with_call(call_iat, 8));
    assert_true(dt_ends_with_call(call_sib_disp8, 8));
    assert_true(dt_ends_with_call(call_disp8, 8));
    assert_true(dt_ends_with_call(rex_call_disp32, 8));
    assert_false(dt_ends_with_call(not_call, 8));
    assert_false(dt_ends_with_call(jmp_reg, 8));
    assert_false(dt_ends_with_call(call_rel32, 4));
}

/* ---- Walk bounds ---- */

enum { CODE_BASE = 0x7ff600000000ull, RETURN_ADDRESS = CODE_BASE + 0x1008,
       WALK_LIMIT = 1024, CONTEXT_SCAN_WORDS = 160, CALLER_SCAN_WORDS = 40 };

/* One thread at RETURN_ADDRESS (just after a CALL rel32 in a module with no
 * unwind data) whose stack holds RETURN_ADDRESS at each of `slots`, so every
 * frame after the first is found by scanning. */
static dt_stacks *walk_scanned_stack(const size_t *slots, size_t slot_count, size_t words,
                                     size_t max_frames, synth_buf *bytes, dt_dump **dump)
{
    static const uint8_t call[] = {0x90, 0x90, 0x90, 0xE8, 0, 0, 0, 0};
    uint8_t *stack = calloc(words, 8);
    assert_non_null(stack);
    for (size_t i = 0; i < slot_count; i++)
        synth_put_u64(stack + 8 * slots[i], RETURN_ADDRESS);
    synth_dump *d = synth_dump_new();
    synth_system_info sys = {.cpu = SYNTH_CPU_AMD64, .major = 10, .build = 19041};
    synth_dump_set_system_info(d, &sys);
    synth_module m = {.path = "C:\\app.exe", .base = CODE_BASE, .size = 0x10000};
    synth_dump_add_module(d, &m);
    synth_dump_add_memory(d, CODE_BASE + 0x1000, call, sizeof call);
    synth_thread t = {.id = 1, .stack_start = STACK, .stack = stack, .stack_size = 8 * words,
                      .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_AMD64);
    t.context.regs[DT_AMD64_RIP] = RETURN_ADDRESS;
    t.context.regs[DT_AMD64_RSP] = STACK;
    synth_dump_add_thread(d, &t);
    synth_buf_init(bytes);
    synth_dump_write(d, bytes);
    synth_dump_free(d);
    free(stack);
    dt_error err;
    assert_int_equal(dt_dump_open_memory(dump, bytes->data, bytes->size, "walk.dmp", &err), DT_OK);
    dt_walk_options options = {.max_frames = max_frames};
    dt_stacks *stacks;
    assert_int_equal(dt_walk_threads(&stacks, *dump, &options), DT_OK);
    return stacks;
}

static size_t frames_walked(const size_t *slots, size_t slot_count, size_t words,
                            size_t max_frames, const char *end_reason)
{
    synth_buf bytes;
    dt_dump *dump;
    dt_stacks *stacks = walk_scanned_stack(slots, slot_count, words, max_frames, &bytes, &dump);
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
    assert_int_equal(n, 1);
    size_t frames = threads[0].frame_count;
    assert_non_null(strstr(threads[0].end_reason, end_reason));
    dt_stacks_free(stacks);
    dt_dump_free(dump);
    synth_buf_free(&bytes);
    return frames;
}

/* A stack of return addresses in every slot ends at the frame limit: the
 * default (1024) or the one asked for. */
static void test_frame_limit(void **state)
{
    (void)state;
    enum { WORDS = WALK_LIMIT + 100 };
    size_t *slots = malloc(WORDS * sizeof *slots);
    assert_non_null(slots);
    for (size_t i = 0; i < WORDS; i++)
        slots[i] = i;
    assert_int_equal(frames_walked(slots, WORDS, WORDS, 0, "frame limit reached"), WALK_LIMIT);
    assert_int_equal(frames_walked(slots, WORDS, WORDS, 5, "frame limit reached"), 5);
    free(slots);
}

/* Scanning reads at most 160 words above the context's RSP and 40 above a
 * caller's: a return address one word further is not found. */
static void test_scan_is_bounded(void **state)
{
    (void)state;
    enum { WORDS = 512 };
    const char *none = "no return address was found";
    size_t within[] = {CONTEXT_SCAN_WORDS - 1};
    size_t beyond[] = {CONTEXT_SCAN_WORDS};
    assert_int_equal(frames_walked(within, 1, WORDS, 0, none), 2);
    assert_int_equal(frames_walked(beyond, 1, WORDS, 0, none), 1);
    size_t caller_within[] = {0, CALLER_SCAN_WORDS};
    size_t caller_beyond[] = {0, CALLER_SCAN_WORDS + 1};
    assert_int_equal(frames_walked(caller_within, 2, WORDS, 0, none), 3);
    assert_int_equal(frames_walked(caller_beyond, 2, WORDS, 0, none), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_and_alloc_small),
        cmocka_unit_test(test_partial_prolog),
        cmocka_unit_test(test_return_address_inside_prolog),
        cmocka_unit_test(test_alloc_large),
        cmocka_unit_test(test_frame_register_and_save_nonvol),
        cmocka_unit_test(test_slot_counts),
        cmocka_unit_test(test_machine_frame),
        cmocka_unit_test(test_epilog_from_code_bytes),
        cmocka_unit_test(test_epilog_lea_frame_register),
        cmocka_unit_test(test_v2_epilog_codes_without_bytes),
        cmocka_unit_test(test_chained_info),
        cmocka_unit_test(test_chain_loop_is_bounded),
        cmocka_unit_test(test_indirect_fragment),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_function_table_stream),
        cmocka_unit_test(test_call_site_check),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_frame_limit),
        cmocka_unit_test(test_scan_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
