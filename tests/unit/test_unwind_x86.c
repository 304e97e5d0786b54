/*
 * The x86 unwinder pieces on hand-built dumps: STACK WIN programs and FPO
 * records evaluated against a stack, the EBP chain's validation, scanning
 * with call-site checks on 32-bit code (E8 rel32 and the FF /2 forms), the
 * WOW64 context and both sides of a WOW64 walk, PDB FPO records, and the
 * second walk dt_stacks_symbolize does for x86 stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dumptriage/symbolizer.h"
#include "dumptriage/unwind.h"
#include "scenarios.h"
#include "synth_dump.h"
#include "unwind/return_address.h"
#include "unwind/wow64.h"
#include "unwind/x86_unwind.h"

enum {
    STACK_START = 0x00120000, STACK_SIZE = 0x1000,
    MODULE_BASE = 0x00400000, MODULE_SIZE = 0x10000,
    CODE_AT = MODULE_BASE + 0x1000 /* code bytes saved in the dump */
};

/* ---- A small x86 dump ------------------------------------------------------- */

typedef struct fixture {
    uint8_t stack[STACK_SIZE];
    uint8_t code[0x100];
    uint32_t eip, esp;       /* the thread's context */
    synth_buf file;
    dt_dump *dump;
    x86_unwind_env env;
} fixture;

static void put32(uint8_t *stack, uint32_t address, uint32_t value)
{
    synth_put_u32(stack + (address - STACK_START), value);
}

/* One thread on STACK_START, module app.exe at MODULE_BASE with
 * fixture->code saved at CODE_AT. */
static void open_fixture(fixture *f)
{
    synth_dump *d = synth_dump_new();
    synth_dump_set_system_info(d, &(synth_system_info){.cpu = SYNTH_CPU_X86, .major = 6,
                                                       .minor = 1, .build = 7601});
    synth_thread t = {.id = 1, .teb = 0x7FFDE000, .stack_start = STACK_START, .stack = f->stack,
                      .stack_size = STACK_SIZE, .has_context = true};
    synth_context_init(&t.context, SYNTH_CPU_X86);
    t.context.regs[DT_X86_EIP] = f->eip;
    t.context.regs[DT_X86_ESP] = f->esp;
    synth_dump_add_thread(d, &t);
    synth_dump_add_module(d, &(synth_module){.path = "C:\\app\\app.exe", .base = MODULE_BASE,
                                             .size = MODULE_SIZE});
    synth_dump_add_memory(d, CODE_AT, f->code, sizeof f->code);
    synth_buf_init(&f->file);
    synth_dump_write(d, &f->file);
    synth_dump_free(d);
    dt_error err;
    assert_int_equal(dt_dump_open_memory(&f->dump, f->file.data, f->file.size, "x86", &err),
                     DT_OK);
    f->env = (x86_unwind_env){f->dump, NULL, STACK_START, STACK_START + STACK_SIZE};
}

static void close_fixture(fixture *f)
{
    dt_dump_free(f->dump);
    synth_buf_free(&f->file);
}

static x86_regs regs_at(uint32_t esp, uint32_t ebp)
{
    x86_regs r = {.eip = CODE_AT + 0x10};
    r.gpr[DT_X86_ESP] = esp;
    r.gpr[DT_X86_EBP] = ebp;
    r.gpr[DT_X86_EBX] = 0xBBBB;
    return r;
}

static dt_sym_win program_record(const char *program)
{
    return (dt_sym_win){.type = DT_SYM_WIN_FRAME_DATA, .code_size = 0x100, .prolog_size = 4,
                        .saved_regs_size = 8, .locals_size = 0x10, .has_program = true,
                        .program = program, .program_length = strlen(program)};
}

/* ---- STACK WIN programs -------------------------------------------------------- */

static void test_program_recovers_registers(void **state)
{
    (void)state;
    fixture f = {0};
    uint32_t esp = STACK_START + 0x100;
    /* FPO frame: [esp] edi, [esp+4] ebx, 0x10 bytes of locals, return address. */
    put32(f.stack, esp + 4, 0x1234);
    put32(f.stack, esp + 0x18, CODE_AT + 0x40);
    open_fixture(&f);
    dt_sym_win win = program_record(
        "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + = $ebx $T0 20 - ^ =");
    x86_regs r = regs_at(esp, 0x5555);
    x86_win_result result = dt_x86_unwind_win(&f.env, &win, 0x10, false, &r);
    assert_int_equal(result.status, X86_WIN_UNWOUND);
    assert_int_equal(r.eip, CODE_AT + 0x40);
    assert_int_equal(r.gpr[DT_X86_ESP], esp + 0x1C);
    assert_int_equal(r.gpr[DT_X86_EBX], 0x1234);
    assert_int_equal(r.gpr[DT_X86_EBP], 0x5555); /* not assigned: unchanged */
    close_fixture(&f);
}

static void test_program_with_ebp_frame(void **state)
{
    (void)state;
    fixture f = {0};
    uint32_t esp = STACK_START + 0x200, ebp = esp + 0x20;
    put32(f.stack, ebp, ebp + 0x40);
    put32(f.stack, ebp + 4, CODE_AT + 0x80);
    open_fixture(&f);
    dt_sym_win win = program_record("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =");
    x86_regs r = regs_at(esp, ebp);
    assert_int_equal(dt_x86_unwind_win(&f.env, &win, 0x10, false, &r).status, X86_WIN_UNWOUND);
    assert_int_equal(r.eip, CODE_AT + 0x80);
    assert_int_equal(r.gpr[DT_X86_ESP], ebp + 8);
    assert_int_equal(r.gpr[DT_X86_EBP], ebp + 0x40);
    close_fixture(&f);
}

static void test_bad_programs_leave_registers(void **state)
{
    (void)state;
    fixture f = {0};
    open_fixture(&f);
    static const char *const programs[] = {
        "$eip $esp ^ =",                       /* $esp never assigned */
        "$T0 $esp 0 / = $eip $T0 = $esp $T0 =", /* divide by zero */
        "$eip 4294967292 ^ = $esp 1 =",        /* memory absent */
        "$eip $esp ^ = $esp $esp 4 + = +",     /* stack underflow */
        "$eip $nosuch = $esp 4 =",             /* unknown register */
    };
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        dt_sym_win win = program_record(programs[i]);
        x86_regs r = regs_at(STACK_START + 0x100, 0), before = r;
        assert_int_equal(dt_x86_unwind_win(&f.env, &win, 0x10, false, &r).status,
                         X86_WIN_BAD_PROGRAM);
        assert_memory_equal(&r, &before, sizeof r);
    }
    close_fixture(&f);
}

static void test_exact_frame_in_prolog_is_not_unwound(void **state)
{
    (void)state;
    fixture f = {0};
    open_fixture(&f);
    dt_sym_win win = program_record("$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + =");
    x86_regs r = regs_at(STACK_START + 0x100, 0);
    assert_int_equal(dt_x86_unwind_win(&f.env, &win, 2, true, &r).status, X86_WIN_IN_PROLOG);
    assert_int_equal(dt_x86_unwind_win(&f.env, &win, 2, false, &r).status, X86_WIN_UNWOUND);
    close_fixture(&f);
}

/* ---- FPO records without a program ------------------------------------------------ */

static void test_fpo_record(void **state)
{
    (void)state;
    fixture f = {0};
    uint32_t esp = STACK_START + 0x300;
    put32(f.stack, esp + 8, 0x7777);               /* highest saved slot: the caller's ebp */
    put32(f.stack, esp + 0xC + 0x20, CODE_AT + 0x60); /* above 12 saved bytes and 0x20 locals */
    open_fixture(&f);
    dt_sym_win win = {.type = DT_SYM_WIN_FPO, .code_size = 0x100, .saved_regs_size = 0xC,
                      .locals_size = 0x20};
    x86_regs r = regs_at(esp, 0x1111);
    assert_int_equal(dt_x86_unwind_win(&f.env, &win, 0x10, false, &r).status, X86_WIN_UNWOUND);
    assert_int_equal(r.eip, CODE_AT + 0x60);
    assert_int_equal(r.gpr[DT_X86_ESP], esp + 0x30);
    assert_int_equal(r.gpr[DT_X86_EBP], 0x1111);
    win.allocates_base_pointer = true;
    r = regs_at(esp, 0x1111);
    assert_int_equal(dt_x86_unwind_win(&f.env, &win, 0x10, false, &r).status, X86_WIN_UNWOUND);
    assert_int_equal(r.gpr[DT_X86_EBP], 0x7777);
    close_fixture(&f);
}

/* ---- EBP chain ------------------------------------------------------------------------ */

static void test_frame_pointer_validation(void **state)
{
    (void)state;
    fixture f = {0};
    uint32_t esp = STACK_START + 0x100, ebp = esp + 0x40;
    put32(f.stack, ebp, ebp + 0x80);
    put32(f.stack, ebp + 4, MODULE_BASE + 0x5000); /* in the module; no code bytes */
    put32(f.stack, ebp + 0x10, ebp + 0x80);
    put32(f.stack, ebp + 0x14, 0x02000000);        /* in no module */
    open_fixture(&f);
    x86_regs r = regs_at(esp, ebp);
    assert_true(dt_x86_unwind_frame_pointer(&f.env, &r));
    assert_int_equal(r.eip, MODULE_BASE + 0x5000);
    assert_int_equal(r.gpr[DT_X86_ESP], ebp + 8);
    assert_int_equal(r.gpr[DT_X86_EBP], ebp + 0x80);
    r = regs_at(esp, ebp + 0x10);
    assert_false(dt_x86_unwind_frame_pointer(&f.env, &r)); /* return address outside code */
    r = regs_at(esp, esp - 0x10);
    assert_false(dt_x86_unwind_frame_pointer(&f.env, &r)); /* below the stack pointer */
    r = regs_at(esp, ebp + 2);
    assert_false(dt_x86_unwind_frame_pointer(&f.env, &r)); /* misaligned */
    r = regs_at(esp, STACK_START + STACK_SIZE);
    assert_false(dt_x86_unwind_frame_pointer(&f.env, &r)); /* off the stack */
    close_fixture(&f);
}

/* ---- Scanning with call-site checks --------------------------------------------------- */

static void test_32_bit_call_forms(void **state)
{
    (void)state;
    static const struct { uint8_t bytes[8]; size_t n; bool call; } cases[] = {
        {{0xE8, 0x10, 0x20, 0x00, 0x00}, 5, true},             /* call rel32 */
        {{0xFF, 0x15, 0x00, 0x10, 0x40, 0x00}, 6, true},       /* call [abs32] */
        {{0xFF, 0xD0}, 2, true},                               /* call eax */
        {{0xFF, 0x12}, 2, true},                               /* call [edx] */
        {{0xFF, 0x55, 0x08}, 3, true},                         /* call [ebp+8] */
        {{0xFF, 0x94, 0x24, 0x00, 0x01, 0x00, 0x00}, 7, true}, /* call [esp+100h] */
        {{0xFF, 0x14, 0x85, 0x00, 0x10, 0x40, 0x00}, 7, true}, /* call [eax*4+abs32] */
        {{0x8B, 0x45, 0x08}, 3, false},                        /* mov eax, [ebp+8] */
        {{0xFF, 0x25, 0x00, 0x10, 0x40, 0x00}, 6, false},      /* jmp [abs32] */
        {{0xFF, 0x75, 0x08}, 3, false},                        /* push [ebp+8] */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(dt_ends_with_call(cases[i].bytes, cases[i].n), cases[i].call);
}

static void test_scan_requires_a_verified_call(void **state)
{
    (void)state;
    fixture f = {0};
    /* Code: a return site after `call [ebp+8]` at +0x20, plain code before
     * +0x40, `call rel32` before +0x60. */
    memcpy(f.code + 0x1D, (uint8_t[]){0xFF, 0x55, 0x08}, 3);
    memcpy(f.code + 0x3D, (uint8_t[]){0x8B, 0x45, 0x08}, 3);
    memcpy(f.code + 0x5B, (uint8_t[]){0xE8, 0, 0, 0, 0}, 5);
    uint32_t esp = STACK_START + 0x100;
    put32(f.stack, esp, 0x10000010);               /* data */
    put32(f.stack, esp + 4, CODE_AT + 0x40);       /* after no call */
    put32(f.stack, esp + 8, MODULE_BASE + 0x8000); /* in the module, no code bytes */
    put32(f.stack, esp + 12, CODE_AT + 0x20);      /* after call [ebp+8] */
    put32(f.stack, esp + 16, CODE_AT + 0x60);
    open_fixture(&f);
    x86_regs r = regs_at(esp, 0);
    assert_true(dt_x86_unwind_scan(&f.env, 40, &r));
    assert_int_equal(r.eip, CODE_AT + 0x20);
    assert_int_equal(r.gpr[DT_X86_ESP], esp + 16);
    assert_true(dt_x86_unwind_scan(&f.env, 40, &r));
    assert_int_equal(r.eip, CODE_AT + 0x60);
    r = regs_at(esp, 0);
    assert_false(dt_x86_unwind_scan(&f.env, 3, &r)); /* bounded: 3 words hold no return */
    assert_false(dt_plausible_return_address32(f.dump, NULL, CODE_AT + 0x40, true));
    assert_false(dt_plausible_return_address32(f.dump, NULL, MODULE_BASE + 0x8000, true));
    assert_true(dt_plausible_return_address32(f.dump, NULL, MODULE_BASE + 0x8000, false));
    assert_false(dt_plausible_return_address32(f.dump, NULL, 0x100000000ull + CODE_AT, false));
    close_fixture(&f);
}

/* ---- Scenarios: WOW64 and the walk again with symbols ------------------------------------ */

typedef struct scenario_dump {
    synth_process *process;
    synth_buf file;
    dt_dump *dump;
} scenario_dump;

static void open_scenario(scenario_dump *s, const char *name)
{
    s->process = synth_scenario_find(name)->build();
    synth_dump *d = synth_process_dump(s->process, SYNTH_VARIANT_FULL);
    synth_buf_init(&s->file);
    synth_dump_write(d, &s->file);
    synth_dump_free(d);
    dt_error err;
    assert_int_equal(dt_dump_open_memory(&s->dump, s->file.data, s->file.size, name, &err),
                     DT_OK);
}

static void close_scenario(scenario_dump *s)
{
    dt_dump_free(s->dump);
    synth_buf_free(&s->file);
    synth_process_free(s->process);
}

static void assert_frames(const dt_thread_stack *t, const synth_stack *want)
{
    assert_int_equal(t->frame_count, want->frame_count);
    for (size_t k = 0; k < want->frame_count; k++)
        assert_int_equal(t->frames[k].ip, want->frames[k].pc);
}

static void test_wow64_context_and_both_sides(void **state)
{
    (void)state;
    scenario_dump s;
    open_scenario(&s, "wow64-x86-process");
    dt_image_search search = {NULL, 0, false, true, true};
    dt_image_set *images;
    dt_error err;
    assert_int_equal(dt_image_set_new(&images, s.dump, &search, &err), DT_OK);
    assert_true(dt_wow64_process(s.dump, images));
    size_t n;
    const dt_thread *threads = dt_dump_threads(s.dump, &n);
    dt_context ctx;
    assert_true(dt_wow64_context(s.dump, &threads[0], &ctx));
    assert_int_equal(ctx.cpu, DT_CPU_X86);
    assert_int_equal(ctx.regs[DT_X86_EIP], synth_process_stack(s.process, 0)->frames[0].pc);
    dt_walk_options options = {.images = images};
    dt_walk_x86_options native = {NULL, true};
    dt_stacks *stacks;
    assert_int_equal(dt_walk_threads_ex(&stacks, s.dump, &options, &native), DT_OK);
    const dt_thread_stack *walked = dt_stacks_threads(stacks, &n);
    for (size_t i = 0; i < n; i++) {
        assert_false(walked[i].wow64);
        assert_frames(&walked[i], synth_process_native_stack(s.process, i));
    }
    dt_stacks_free(stacks);
    assert_int_equal(dt_walk_threads(&stacks, s.dump, &options), DT_OK);
    walked = dt_stacks_threads(stacks, &n);
    assert_true(walked[0].wow64 && walked[0].frame_count > 0);
    assert_int_equal(walked[0].frames[0].ip, ctx.regs[DT_X86_EIP]);
    dt_stacks_free(stacks);
    dt_image_set_free(images);
    close_scenario(&s);
}

/* Walked without symbols, FPO frames break the EBP chain; naming the frames
 * walks again with the symbols' STACK WIN records. Symbols come from the
 * scenario's .sym files, written to a temporary store. */
static void test_symbolize_walks_x86_again(void **state)
{
    (void)state;
    scenario_dump s;
    open_scenario(&s, "seed002-clr-monitor-x86");
    char dir[] = "/tmp/dt-x86-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t u = 0; u < synth_process_unit_count(s.process); u++) {
        const synth_pe *pe = synth_process_pe(s.process, (int)u);
        if (pe)
            assert_int_equal(synth_pe_write_files(pe, synth_process_image(s.process, (int)u), dir),
                             0);
    }
    char symbols[64];
    snprintf(symbols, sizeof symbols, "%s/symbols", dir);
    const char *paths[] = {symbols};
    dt_symbol_search search = {paths, 1, false, true, NULL};
    dt_symbolizer *symbolizer;
    dt_error err;
    assert_int_equal(dt_symbolizer_new(&symbolizer, s.dump, &search, &err), DT_OK);
    dt_stacks *stacks;
    assert_int_equal(dt_walk_threads(&stacks, s.dump, NULL), DT_OK);
    size_t n;
    const dt_thread_stack *walked = dt_stacks_threads(stacks, &n);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++)
        wrong += walked[i].frame_count != synth_process_stack(s.process, i)->frame_count;
    assert_true(wrong > 0);
    assert_int_equal(dt_stacks_symbolize(stacks, symbolizer), DT_OK);
    walked = dt_stacks_threads(stacks, &n);
    for (size_t i = 0; i < n; i++)
        assert_frames(&walked[i], synth_process_stack(s.process, i));
    size_t groups;
    dt_stacks_groups(stacks, &groups);
    assert_int_equal(groups, 5); /* 72 waiters, 3 compilation waiters, owner, main, finalizer */
    dt_stacks_free(stacks);
    dt_symbolizer_free(symbolizer);
    close_scenario(&s);
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    assert_int_equal(system(command), 0);
}

/* ---- PDB FPO records ------------------------------------------------------------------------ */

/* The BugSplat x86 PDB (corpus) carries new-FPO frame data: the record for
 * the crashing function's code is a FRAME_DATA program. */
static void test_pdb_frame_data(void **state)
{
    (void)state;
    const char *path = DT_SHARED_DIR "/corpus/BugSplat-Git+bugsplat-dotnet-standard/"
                                     "BugSplatDotNetStandard.Test/Files/myConsoleCrasher.pdb";
    dt_pdb *pdb;
    dt_error err;
    if (dt_pdb_open(&pdb, path, &err) != DT_OK)
        skip();
    dt_sym_win win;
    assert_true(dt_pdb_find_fpo(pdb, 0x1620, &win));
    assert_int_equal(win.type, DT_SYM_WIN_FRAME_DATA);
    assert_true(win.has_program && win.program_length > 0);
    assert_true(win.rva <= 0x1620 && 0x1620 - win.rva < win.code_size);
    assert_false(dt_pdb_find_fpo(pdb, 0x7FFFFFF0, &win));
    dt_pdb_free(pdb);
}

/* ---- Walk bounds ---------------------------------------------------------- */

enum { RETURN_SITE = CODE_AT + 0x60, CONTEXT_SCAN_WORDS = 160, CALLER_SCAN_WORDS = 40 };

/* Frames of a walk from RETURN_SITE (after a `call rel32`, no records, no
 * EBP) whose stack holds RETURN_SITE at each of `slots`; checks the end reason. */
static size_t frames_walked(const size_t *slots, size_t slot_count, size_t max_frames,
                            const char *end_reason)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    memcpy(f->code + 0x5B, (uint8_t[]){0xE8, 0, 0, 0, 0}, 5);
    for (size_t i = 0; i < slot_count; i++)
        put32(f->stack, STACK_START + 4 * (uint32_t)slots[i], RETURN_SITE);
    f->eip = RETURN_SITE;
    f->esp = STACK_START;
    open_fixture(f);
    dt_walk_options options = {.max_frames = max_frames};
    dt_stacks *stacks;
    assert_int_equal(dt_walk_threads(&stacks, f->dump, &options), DT_OK);
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &n);
    assert_int_equal(n, 1);
    size_t frames = threads[0].frame_count;
    assert_non_null(strstr(threads[0].end_reason, end_reason));
    dt_stacks_free(stacks);
    close_fixture(f);
    free(f);
    return frames;
}

/* The x86 walk stops at max_frames, and scans at most 160 words above the
 * context's ESP and 40 above a caller's. */
static void test_walk_bounds(void **state)
{
    (void)state;
    size_t every[STACK_SIZE / 4];
    for (size_t i = 0; i < STACK_SIZE / 4; i++)
        every[i] = i;
    assert_int_equal(frames_walked(every, STACK_SIZE / 4, 5, "frame limit reached"), 5);
    const char *none = "no unwind record, frame pointer or return address";
    size_t within[] = {CONTEXT_SCAN_WORDS - 1}, beyond[] = {CONTEXT_SCAN_WORDS};
    assert_int_equal(frames_walked(within, 1, 0, none), 2);
    assert_int_equal(frames_walked(beyond, 1, 0, none), 1);
    size_t caller_within[] = {0, CALLER_SCAN_WORDS}, caller_beyond[] = {0, CALLER_SCAN_WORDS + 1};
    assert_int_equal(frames_walked(caller_within, 2, 0, none), 3);
    assert_int_equal(frames_walked(caller_beyond, 2, 0, none), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_recovers_registers),
        cmocka_unit_test(test_program_with_ebp_frame),
        cmocka_unit_test(test_bad_programs_leave_registers),
        cmocka_unit_test(test_exact_frame_in_prolog_is_not_unwound),
        cmocka_unit_test(test_fpo_record),
        cmocka_unit_test(test_frame_pointer_validation),
        cmocka_unit_test(test_32_bit_call_forms),
        cmocka_unit_test(test_scan_requires_a_verified_call),
        cmocka_unit_test(test_wow64_context_and_both_sides),
        cmocka_unit_test(test_symbolize_walks_x86_again),
        cmocka_unit_test(test_pdb_frame_data),
        cmocka_unit_test(test_walk_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
