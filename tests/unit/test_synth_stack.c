/*
 * The stacks of every synthetic scenario, walked by a reference x64
 * unwinder that knows nothing of the builder: it reads the dump through the
 * reader's API and the images' .pdata / UNWIND_INFO / code bytes, and must
 * recover exactly the frames (pc, sp, non-volatile registers) the builder
 * laid out. Frames in JIT code (no image) are crossed by the RBP chain.
 * A naive scanner, by contrast, must be fooled by the decoys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/dump.h"
#include "scenarios.h"

enum {
    UWOP_PUSH_NONVOL = 0, UWOP_ALLOC_LARGE, UWOP_ALLOC_SMALL, UWOP_SET_FPREG, UWOP_SAVE_NONVOL,
    UWOP_SAVE_NONVOL_FAR, UWOP_EPILOG, UWOP_SPARE, UWOP_SAVE_XMM128, UWOP_SAVE_XMM128_FAR,
    UWOP_PUSH_MACHFRAME,
    UNW_FLAG_CHAININFO = 4, CHAIN_LIMIT = 32, RSP = 4, RBP = 5
};

/* ---- Memory: the dump, then images mapped from their files ------------- */

typedef struct image {
    uint64_t base;
    synth_buf mapped;
} image;

typedef struct memory {
    const dt_dump *dump;
    image *images;
    size_t image_count;
} memory;

static bool mem_read(const memory *m, uint64_t address, void *out, size_t n)
{
    if (dt_dump_read(m->dump, address, out, n) == n)
        return true;
    for (size_t i = 0; i < m->image_count; i++) {
        const image *im = &m->images[i];
        if (address >= im->base && address - im->base + n <= im->mapped.size) {
            memcpy(out, im->mapped.data + (address - im->base), n);
            return true;
        }
    }
    return false;
}

static uint64_t read64(const memory *m, uint64_t address)
{
    uint8_t b[8];
    if (!mem_read(m, address, b, 8))
        fail_msg("unreadable memory at 0x%llx", (unsigned long long)address);
    return synth_get_u64(b);
}

static uint32_t read32(const memory *m, uint64_t address)
{
    uint8_t b[4];
    if (!mem_read(m, address, b, 4))
        fail_msg("unreadable memory at 0x%llx", (unsigned long long)address);
    return synth_get_u32(b);
}

/* ---- Unwind data lookup --------------------------------------------------- */

typedef struct runtime_function {
    uint32_t begin, end, unwind;
} runtime_function;

typedef struct context {
    uint64_t r[16];
    uint64_t rip;
    uint16_t known;   /* bit n: r[n] is known (false after an RBP-chain step) */
} context;

static runtime_function read_rf(const memory *m, uint64_t address)
{
    return (runtime_function){read32(m, address), read32(m, address + 4), read32(m, address + 8)};
}

/* IMAGE_DIRECTORY_ENTRY_EXCEPTION of the image at `base` (PE32+). */
static bool exception_directory(const memory *m, uint64_t base, uint32_t *rva, uint32_t *size)
{
    uint64_t optional = base + read32(m, base + 0x3C) + 24;
    *rva = read32(m, optional + 0x70 + 3 * 8);
    *size = read32(m, optional + 0x70 + 3 * 8 + 4);
    return *rva != 0;
}

/* Binary search of .pdata, then indirect entries (UnwindData bit 0). */
static bool lookup(const memory *m, uint64_t base, uint64_t pc, runtime_function *out)
{
    uint32_t rva, size, target = (uint32_t)(pc - base);
    if (!exception_directory(m, base, &rva, &size))
        return false;
    size_t lo = 0, hi = size / 12;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        runtime_function rf = read_rf(m, base + rva + 12 * mid);
        if (target < rf.begin) {
            hi = mid;
        } else if (target >= rf.end) {
            lo = mid + 1;
        } else {
            for (int depth = 0; rf.unwind & 1; depth++) {
                assert_true(depth < CHAIN_LIMIT);
                rf = read_rf(m, base + (rf.unwind & ~1u));
            }
            *out = rf;
            return true;
        }
    }
    return false;
}

typedef struct unwind_info {
    uint8_t version, flags, prolog_size, count, frame_reg, frame_offset;
    uint16_t codes[256];
    uint64_t address;
} unwind_info;

/* UNWIND_INFO: byte 0 Version (bits 0-2) | Flags (bits 3-7), 1 SizeOfProlog,
 * 2 CountOfCodes, 3 FrameRegister (low 4) | FrameOffset (high 4), codes. */
static unwind_info read_ui(const memory *m, uint64_t address)
{
    unwind_info ui = {.address = address};
    uint32_t head = read32(m, address);
    ui.version = head & 7;
    ui.flags = (head >> 3) & 0x1F;
    ui.prolog_size = (uint8_t)(head >> 8);
    ui.count = (uint8_t)(head >> 16);
    ui.frame_reg = (head >> 24) & 0xF;
    ui.frame_offset = (uint8_t)(head >> 28);
    for (unsigned i = 0; i < ui.count; i++) {
        uint8_t b[2];
        assert_true(mem_read(m, address + 4 + 2 * i, b, 2));
        ui.codes[i] = (uint16_t)(b[0] | b[1] << 8);
    }
    return ui;
}

static unsigned code_offset(uint16_t c) { return c & 0xFF; }
static unsigned code_op(uint16_t c) { return (c >> 8) & 0xF; }
static unsigned code_info(uint16_t c) { return c >> 12; }

static unsigned slots(uint16_t c)
{
    switch (code_op(c)) {
    case UWOP_ALLOC_LARGE: return code_info(c) ? 3 : 2;
    case UWOP_SAVE_NONVOL: case UWOP_SAVE_XMM128: case UWOP_EPILOG: case UWOP_SPARE: return 2;
    case UWOP_SAVE_NONVOL_FAR: case UWOP_SAVE_XMM128_FAR: return 3;
    default: return 1;
    }
}

static runtime_function chained_entry(const memory *m, const unwind_info *ui)
{
    return read_rf(m, ui->address + 4 + 2 * ((ui->count + 1u) & ~1u));
}

static void set_reg(context *c, unsigned reg, uint64_t value)
{
    c->r[reg] = value;
    c->known |= (uint16_t)(1u << reg);
}

/* ---- Prolog and epilog unwinding ---------------------------------------- */

static uint64_t far_value(const unwind_info *ui, unsigned i)
{
    return ui->codes[i + 1] | (uint64_t)ui->codes[i + 2] << 16;
}

/* Reverses the prolog codes whose CodeOffset <= the prolog offset, then the
 * chained parents' codes; returns true when a machine frame was popped. */
static bool unwind_prolog(const memory *m, uint64_t base, uint64_t pc, runtime_function rf,
                          uint64_t frame_base, context *c)
{
    for (int chain = 0; chain < CHAIN_LIMIT; chain++) {
        unwind_info ui = read_ui(m, base + rf.unwind);
        uint64_t prolog_offset = pc - (base + rf.begin);
        bool machine_frame = false;
        for (unsigned i = 0; i < ui.count; i += slots(ui.codes[i])) {
            uint16_t code = ui.codes[i];
            unsigned info = code_info(code);
            if (prolog_offset < code_offset(code) || code_op(code) == UWOP_EPILOG)
                continue;
            switch (code_op(code)) {
            case UWOP_PUSH_NONVOL:
                set_reg(c, info, read64(m, c->r[RSP]));
                c->r[RSP] += 8;
                break;
            case UWOP_ALLOC_LARGE:
                c->r[RSP] += info ? far_value(&ui, i) : ui.codes[i + 1] * 8u;
                break;
            case UWOP_ALLOC_SMALL: c->r[RSP] += info * 8u + 8; break;
            case UWOP_SET_FPREG: c->r[RSP] = c->r[ui.frame_reg] - 16u * ui.frame_offset; break;
            case UWOP_SAVE_NONVOL:
                set_reg(c, info, read64(m, frame_base + ui.codes[i + 1] * 8u));
                break;
            case UWOP_SAVE_NONVOL_FAR:
                set_reg(c, info, read64(m, frame_base + far_value(&ui, i)));
                break;
            case UWOP_SAVE_XMM128: case UWOP_SAVE_XMM128_FAR: break;
            case UWOP_PUSH_MACHFRAME: {
                uint64_t at = c->r[RSP] + (info ? 8 : 0);
                c->rip = read64(m, at);
                c->r[RSP] = read64(m, at + 24);
                machine_frame = true;
                break;
            }
            default: fail_msg("unexpected unwind op %u", code_op(code));
            }
        }
        if (!(ui.flags & UNW_FLAG_CHAININFO)) {
            if (!machine_frame) {
                c->rip = read64(m, c->r[RSP]);
                c->r[RSP] += 8;
            }
            return machine_frame;
        }
        rf = chained_entry(m, &ui);
    }
    fail_msg("chain too long");
    return false;
}

/* Version 1: an epilog is recognized from the code bytes at pc: add rsp /
 * lea rsp,[fp+d], pops, ret. Emulates it and returns true when found. */
static bool unwind_v1_epilog(const memory *m, const unwind_info *ui, uint64_t pc, context *c)
{
    uint8_t b[32];
    if (!mem_read(m, pc, b, sizeof b))
        return false;
    size_t i = 0;
    uint64_t rsp = c->r[RSP];
    if (b[0] == 0x48 && b[1] == 0x83 && b[2] == 0xC4) {
        rsp += (uint64_t)(int8_t)b[3];
        i = 4;
    } else if (b[0] == 0x48 && b[1] == 0x81 && b[2] == 0xC4) {
        rsp += (uint64_t)(int32_t)synth_get_u32(b + 3);
        i = 7;
    } else if ((b[0] & 0xFE) == 0x48 && b[1] == 0x8D) {
        unsigned reg = (b[0] & 1u) << 3 | (b[2] & 7u);
        if (reg == 0 || reg != ui->frame_reg)
            return false;
        bool small = (b[2] & 0xF8) == 0x60;
        rsp =
            c->r[reg] + (small ? (uint64_t)(int8_t)b[3] : (uint64_t)(int32_t)synth_get_u32(b + 3));
        i = small ? 4 : 7;
    }
    size_t pops = i;
    while ((b[pops] & 0xF8) == 0x58 || ((b[pops] & 0xF0) == 0x40 && (b[pops + 1] & 0xF8) == 0x58))
        pops += (b[pops] & 0xF8) == 0x58 ? 1 : 2;
    if (b[pops] != 0xC3)
        return false;
    while (i < pops) {
        unsigned reg = (b[i] & 0xF0) == 0x40 ? ((b[i] & 1u) << 3 | (b[i + 1] & 7u)) : (b[i] & 7u);
        i += (b[i] & 0xF0) == 0x40 ? 2 : 1;
        set_reg(c, reg, read64(m, rsp));
        rsp += 8;
    }
    c->rip = read64(m, rsp);
    c->r[RSP] = rsp + 8;
    return true;
}

/* Version 2: epilog codes locate the epilogs; the pushes of the prolog are
 * replayed from the first one not yet popped. */
static bool unwind_v2_epilog(const memory *m, uint64_t base, runtime_function rf,
                             const unwind_info *ui, uint64_t pc, context *c)
{
    if (ui->count == 0 || code_op(ui->codes[0]) != UWOP_EPILOG)
        return false;
    uint32_t size = code_offset(ui->codes[0]), rel = (uint32_t)(pc - base), start = 0;
    bool in = false;
    if (code_info(ui->codes[0]) & 1) {
        start = rf.end - size;
        in = rel - start < size;
    }
    for (unsigned i = 1; !in && i < ui->count && code_op(ui->codes[i]) == UWOP_EPILOG; i++) {
        uint32_t distance = code_offset(ui->codes[i]) | code_info(ui->codes[i]) << 8;
        if (distance == 0)
            break;
        start = rf.end - distance;
        in = rel - start < size;
    }
    if (!in)
        return false;
    uint32_t epilog_offset = rel - start, current = 0;
    unsigned i = 0;
    while (i < ui->count && code_op(ui->codes[i]) != UWOP_PUSH_NONVOL)
        i += slots(ui->codes[i]);
    for (; i < ui->count && code_op(ui->codes[i]) == UWOP_PUSH_NONVOL; i++) {
        unsigned reg = code_info(ui->codes[i]);
        if (current >= epilog_offset) {
            set_reg(c, reg, read64(m, c->r[RSP]));
            c->r[RSP] += 8;
        }
        current += reg >= 8 ? 2 : 1;
    }
    c->rip = read64(m, c->r[RSP]);
    c->r[RSP] += 8;
    return true;
}

/* The establisher frame: rsp, or the frame register minus its offset once
 * SET_FPREG has executed (or always, past the prolog or when chained). */
static uint64_t establisher(const unwind_info *ui, uint64_t prolog_offset, const context *c)
{
    if (ui->frame_reg == 0)
        return c->r[RSP];
    bool set = prolog_offset >= ui->prolog_size || (ui->flags & UNW_FLAG_CHAININFO);
    for (unsigned i = 0; !set && i < ui->count; i += slots(ui->codes[i]))
        if (code_op(ui->codes[i]) == UWOP_SET_FPREG)
            set = prolog_offset >= code_offset(ui->codes[i]);
    return set ? c->r[ui->frame_reg] - 16u * ui->frame_offset : c->r[RSP];
}

/* One step. `exact`: the pc is not a return address (frame 0, or a frame
 * reached through a machine frame). Returns whether the next frame is exact. */
static bool unwind_step(const memory *m, const dt_dump *d, context *c, bool exact)
{
    const dt_module *mod = dt_dump_module_at(d, c->rip);
    if (!mod) { /* JIT code: follow the RBP chain */
        uint64_t rbp = c->r[RBP];
        c->rip = read64(m, rbp + 8);
        c->r[RSP] = rbp + 16;
        c->known = 0;
        set_reg(c, RBP, read64(m, rbp));
        return false;
    }
    runtime_function rf;
    uint64_t pc = c->rip;
    if (!lookup(m, mod->base, exact ? pc : pc - 1, &rf)) { /* leaf */
        c->rip = read64(m, c->r[RSP]);
        c->r[RSP] += 8;
        return false;
    }
    unwind_info ui = read_ui(m, mod->base + rf.unwind);
    uint64_t frame_base = establisher(&ui, pc - (mod->base + rf.begin), c);
    if (ui.version >= 2 ? unwind_v2_epilog(m, mod->base, rf, &ui, pc, c)
                        : unwind_v1_epilog(m, &ui, pc, c))
        return false;
    return unwind_prolog(m, mod->base, pc, rf, frame_base, c);
}

/* ---- Walking the scenarios ------------------------------------------------ */

static dt_dump *open_variant(const synth_process *p, synth_variant variant)
{
    char path[] = "/tmp/synth_stack_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    synth_dump *d = synth_process_dump(p, variant);
    assert_int_equal(synth_dump_write_file(d, path), 0);
    synth_dump_free(d);
    dt_dump *dump = NULL;
    assert_int_equal(dt_dump_open(&dump, path, NULL, NULL), DT_OK);
    unlink(path);
    return dump;
}

static void map_images(const synth_process *p, memory *m)
{
    m->images = calloc(synth_process_unit_count(p), sizeof *m->images);
    for (size_t i = 0; i < synth_process_unit_count(p); i++) {
        const synth_pe *pe = synth_process_pe(p, (int)i);
        if (!pe)
            continue;
        image *im = &m->images[m->image_count++];
        im->base = synth_pe_base(pe);
        synth_pe_map(pe, synth_process_image(p, (int)i), &im->mapped);
    }
}

static void free_images(memory *m)
{
    for (size_t i = 0; i < m->image_count; i++)
        synth_buf_free(&m->images[i].mapped);
    free(m->images);
}

static void check_frame(const context *c, const synth_unwound *want, uint32_t tid, size_t k)
{
    if (c->rip != want->pc || c->r[RSP] != want->sp)
        fail_msg("thread %u frame %zu: pc 0x%llx sp 0x%llx, want pc 0x%llx sp 0x%llx", tid, k,
                 (unsigned long long)c->rip, (unsigned long long)c->r[RSP],
                 (unsigned long long)want->pc, (unsigned long long)want->sp);
    for (unsigned r = 0; r < 16; r++)
        if (synth_is_nonvolatile(r) && (c->known >> r & 1) && c->r[r] != want->regs[r])
            fail_msg("thread %u frame %zu: register %u is 0x%llx, want 0x%llx", tid, k, r,
                     (unsigned long long)c->r[r], (unsigned long long)want->regs[r]);
}

static void walk_thread(const memory *m, const dt_thread *t, const synth_stack *want)
{
    context c = {.rip = dt_context_ip(&t->context), .known = 0xFFFF};
    for (unsigned r = 0; r < 16; r++)
        c.r[r] = t->context.regs[r];
    bool exact = true;
    for (size_t k = 0; k < want->frame_count; k++) {
        check_frame(&c, &want->frames[k], t->id, k);
        exact = unwind_step(m, m->dump, &c, exact);
    }
    assert_int_equal(c.rip, 0); /* the outermost frame returns nowhere */
}

static void walk_variant(const synth_process *p, synth_variant variant)
{
    memory m = {open_variant(p, variant), NULL, 0};
    if (variant == SYNTH_VARIANT_MINI)
        map_images(p, &m);
    size_t n;
    const dt_thread *threads = dt_dump_threads(m.dump, &n);
    assert_int_equal(n, synth_process_thread_count(p));
    for (size_t i = 0; i < n; i++)
        walk_thread(&m, &threads[i], synth_process_stack(p, i));
    free_images(&m);
    dt_dump_free((dt_dump *)m.dump);
}

static void test_exact_unwind_recovers_every_frame(void **state)
{
    (void)state;
    for (size_t s = 0; s < synth_scenario_count(); s++) {
        if (!synth_scenario_at(s)->build)
            continue; /* images only */
        synth_process *p = synth_scenario_at(s)->build();
        if (synth_process_cpu(p) == SYNTH_CPU_X86) {
            synth_process_free(p); /* x86: tests/unit/test_unwind_x86.c */
            continue;
        }
        walk_variant(p, SYNTH_VARIANT_FULL);
        walk_variant(p, SYNTH_VARIANT_MINI);
        synth_process_free(p);
    }
}

/* A value that lands just after a call instruction in some module's code. */
static bool looks_like_return_address(const memory *m, const dt_dump *d, uint64_t v)
{
    uint8_t b[5];
    if (!dt_dump_module_at(d, v) || !mem_read(m, v - 5, b, 5))
        return false;
    return b[0] == 0xE8 || (b[3] == 0xFF && (b[4] & 0x38) == 0x10);
}

/* Scanning up from each caller's stack pointer for the first plausible
 * return address lands on a decoy at least once per multi-frame thread. */
static void test_naive_scanner_is_fooled(void **state)
{
    (void)state;
    synth_process *p = synth_scenario_find("seed000-w3wp-shutdown")->build();
    memory m = {open_variant(p, SYNTH_VARIANT_FULL), NULL, 0};
    const synth_stack *want = synth_process_stack(p, 0);
    size_t wrong = 0;
    for (size_t k = 1; k + 1 < want->frame_count; k++) {
        uint64_t sp = want->frames[k].sp, found = 0;
        for (uint64_t a = sp; !found && a < sp + 0x400; a += 8) {
            uint64_t v = read64(&m, a);
            if (looks_like_return_address(&m, m.dump, v))
                found = v;
        }
        wrong += found != want->frames[k + 1].pc;
    }
    assert_true(wrong >= want->frame_count / 2);
    dt_dump_free((dt_dump *)m.dump);
    synth_process_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_unwind_recovers_every_frame),
        cmocka_unit_test(test_naive_scanner_is_fooled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
