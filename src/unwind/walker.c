/*
 * The stack walker: for each thread, frame 0 from its context (the faulting
 * thread from the exception's), then caller frames from unwind data, with
 * honest fallbacks when there is none: the FunctionTable stream, a validated
 * frame-pointer chain, and bounded scanning for return addresses that sit
 * just after a CALL instruction.
 */
#include "unwind/walker_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/cursor.h"
#include "base/diag.h"
#include "unwind/return_address.h"
#include "unwind/wow64.h"
#include "unwind/x64_unwind.h"
#include "unwind/x86_walk.h"

enum { DEFAULT_MAX_FRAMES = 1024, SCAN_WORDS_CONTEXT = 160, SCAN_WORDS = 40,
       REG_RSP = 4, REG_RBP = 5, MAX_FRAME_POINTER_GAP = 128 * 1024 };

/* One thread's walk in progress. */
typedef struct walk {
    dt_stacks *stacks;
    const dt_dump *dump;
    dt_image_set *images;
    dt_symbolizer *symbolizer;
    size_t max_frames;
    x64_regs regs;
    bool exact;              /* regs.rip is precise (frame 0 or a machine frame) */
    uint64_t stack_low, stack_high;
    uint64_t own_stack_low, own_stack_high; /* the stack's known extent, for on_stack */
    dt_frame *frames;
    size_t count, capacity;
    const char *end_reason;
    uint32_t thread_id;
} walk;

const char *dt_frame_trust_name(dt_frame_trust trust)
{
    static const char *const names[] = {"context", "cfi", "frame_pointer", "scan"};
    return trust <= DT_TRUST_SCAN ? names[trust] : "unknown";
}

static bool append_frame(walk *w, uint64_t ip, uint64_t sp, bool exact, dt_frame_trust trust)
{
    if (w->count == w->capacity) {
        size_t capacity = w->capacity ? w->capacity * 2 : 32;
        dt_frame *frames = realloc(w->frames, capacity * sizeof *frames);
        if (!frames)
            return false;
        w->frames = frames;
        w->capacity = capacity;
    }
    dt_frame *f = &w->frames[w->count++];
    memset(f, 0, sizeof *f);
    f->ip = ip;
    f->sp = sp;
    f->trust = trust;
    f->exact = exact;
    return true;
}

static bool push_frame(walk *w, dt_frame_trust trust)
{
    return append_frame(w, w->regs.rip, w->regs.gpr[REG_RSP], w->exact, trust);
}

/* ---- Unwind sources ----------------------------------------------------- */

/* The unwind source for the code at `address`: the module's image, or a
 * FunctionTable stream descriptor covering it. */
typedef struct source_choice {
    x64_unwind_source source;
    bool found;
    bool image_has_pdata;
} source_choice;

typedef struct table_ctx {
    const dt_dump *dump;
    const dt_function_table *table;
} table_ctx;

/* RUNTIME_FUNCTION entries of a FunctionTable descriptor, binary-searched. */
static dt_status table_find(const void *ctx, uint32_t rva, dt_runtime_function *entry,
                            dt_runtime_function *primary)
{
    const table_ctx *t = ctx;
    uint64_t size;
    const uint8_t *file = dt_dump_file_bytes(t->dump, &size);
    size_t lo = 0, hi = t->table->entry_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = file + t->table->entries_offset + mid * t->table->entry_size;
        uint32_t begin = dt_le32(e), end = dt_le32(e + 4);
        if (rva < begin) {
            hi = mid;
        } else if (rva >= end) {
            lo = mid + 1;
        } else {
            entry->begin = begin;
            entry->end = end;
            entry->unwind_data = dt_le32(e + 8);
            *primary = *entry;
            return DT_OK;
        }
    }
    return DT_ERR_NOT_FOUND;
}

static size_t table_read(const void *ctx, uint32_t rva, void *buf, size_t n)
{
    const table_ctx *t = ctx;
    return dt_dump_read(t->dump, t->table->base_address + rva, buf, n);
}

static const dt_function_table *table_at(const dt_dump *dump, uint64_t address)
{
    size_t n;
    const dt_function_table *tables = dt_dump_function_tables(dump, &n);
    for (size_t i = 0; i < n; i++)
        if (address >= tables[i].minimum_address && address < tables[i].maximum_address &&
            tables[i].entry_size >= 12 && address >= tables[i].base_address &&
            address - tables[i].base_address <= UINT32_MAX)
            return &tables[i];
    return NULL;
}

static source_choice choose_source(walk *w, uint64_t lookup, table_ctx *table)
{
    source_choice c = {0};
    const dt_module *module = dt_dump_module_at(w->dump, lookup);
    const dt_image *image = module && w->images ? dt_image_set_get(w->images, module) : NULL;
    size_t pdata = 0;
    if (image)
        dt_image_runtime_functions(image, &pdata);
    if (image && pdata) {
        c.source = dt_x64_image_source(image, module->base);
        c.found = c.image_has_pdata = true;
        return c;
    }
    table->dump = w->dump;
    table->table = table_at(w->dump, lookup);
    if (table->table) {
        x64_unwind_source s = {table->table->base_address, table_find, table_read, table};
        c.source = s;
        c.found = true;
    }
    return c;
}

/* ---- Fallbacks ------------------------------------------------------------ */

static bool stack_word(const walk *w, uint64_t address, uint64_t *value)
{
    return address >= w->stack_low && address + 8 <= w->stack_high &&
           dt_dump_read_u64(w->dump, address, value);
}

/* RBP chain: [rbp] = caller's rbp, [rbp+8] = return address. On Windows the
 * frame register may point anywhere into the frame, so the chain is used only
 * when the return address validates. */
static bool try_frame_pointer(walk *w)
{
    uint64_t rbp = w->regs.gpr[REG_RBP], rsp = w->regs.gpr[REG_RSP];
    uint64_t caller_rbp, ip;
    if (rbp < rsp || (rbp & 7) || rbp - rsp > MAX_FRAME_POINTER_GAP ||
        !stack_word(w, rbp, &caller_rbp) || !stack_word(w, rbp + 8, &ip))
        return false;
    if (!dt_plausible_return_address(w->dump, w->images, ip, true))
        return false;
    w->regs.rip = ip;
    w->regs.gpr[REG_RSP] = rbp + 16;
    w->regs.gpr[REG_RBP] = caller_rbp;
    return true;
}

/* Scans upward from RSP for a word that is a return address. */
static bool try_scan(walk *w, size_t words)
{
    uint64_t rsp = w->regs.gpr[REG_RSP];
    for (size_t i = 0; i < words; i++) {
        uint64_t slot = rsp + 8 * i, value;
        if (!stack_word(w, slot, &value))
            return false;
        if (dt_plausible_return_address(w->dump, w->images, value, true)) {
            w->regs.rip = value;
            w->regs.gpr[REG_RSP] = slot + 8;
            return true;
        }
    }
    return false;
}

/* ---- Stepping ------------------------------------------------------------- */

/* Leaf function (no RUNTIME_FUNCTION in an image that has .pdata) at the
 * exact frame: the return address is at [RSP]. */
static bool unwind_leaf(walk *w)
{
    uint64_t ip;
    if (!stack_word(w, w->regs.gpr[REG_RSP], &ip))
        return false;
    w->regs.rip = ip;
    w->regs.gpr[REG_RSP] += 8;
    return true;
}

/* Whether `ip` lies in code: a module, or executable memory (JIT code). */
static bool in_code(const walk *w, uint64_t ip)
{
    if (dt_dump_module_at(w->dump, ip))
        return true;
    const dt_memory_info *region = dt_dump_memory_info_at(w->dump, ip);
    return region && (region->protect & 0xF0) != 0;
}

/* An exact frame outside all code: a call or jump to a bad address. The
 * Windows unwinder treats it as a leaf, and the CALL just pushed the return
 * address, so [RSP] is used when it validates. */
static bool unwind_bad_target(walk *w)
{
    uint64_t ip;
    if (!w->exact || in_code(w, w->regs.rip) ||
        !stack_word(w, w->regs.gpr[REG_RSP], &ip) ||
        !dt_plausible_return_address(w->dump, w->images, ip, true))
        return false;
    return unwind_leaf(w);
}

/* Computes the caller's registers; returns the trust of the new frame, or
 * -1 (with end_reason set) when the walk cannot go on. */
static int step(walk *w)
{
    uint64_t lookup = w->exact ? w->regs.rip : w->regs.rip - 1;
    table_ctx table;
    source_choice c = choose_source(w, lookup, &table);
    if (c.found) {
        x64_unwind_result r = dt_x64_unwind_frame(&c.source, w->dump, &w->regs, w->exact);
        if (r.status == X64_UNWOUND) {
            w->exact = r.machine_frame;
            return DT_TRUST_CFI;
        }
        if (r.status == X64_NO_FUNCTION && c.image_has_pdata && w->exact && unwind_leaf(w)) {
            w->exact = false;
            return DT_TRUST_CFI;
        }
        if (r.status == X64_STACK_MISSING) {
            w->end_reason = "the caller's saved registers are not in the dump";
            return -1;
        }
        if (r.status == X64_BAD_UNWIND_DATA)
            dt_diag_add(&w->stacks->diags, &w->stacks->arena, DT_DIAG_WARNING, "UNWIND_INFO", -1,
                        "thread %u at 0x%llx: %s; falling back", w->thread_id,
                        (unsigned long long)w->regs.rip, r.detail);
    }
    bool first = w->count == 1;
    if (!c.found && unwind_bad_target(w)) {
        w->exact = false;
        return DT_TRUST_CFI;
    }
    w->exact = false;
    if (try_frame_pointer(w))
        return DT_TRUST_FRAME_POINTER;
    if (try_scan(w, first ? SCAN_WORDS_CONTEXT : SCAN_WORDS))
        return DT_TRUST_SCAN;
    w->end_reason = c.found ? "unwind data is unusable and no return address was found"
                            : "no unwind data and no return address was found";
    return -1;
}

/* Whether the registers now describe a frame that may be recorded. */
static bool caller_is_valid(walk *w, uint64_t previous_sp)
{
    uint64_t sp = w->regs.gpr[REG_RSP];
    if (w->regs.rip == 0)
        w->end_reason = "return address is zero";
    else if (sp <= previous_sp)
        w->end_reason = "stack pointer did not increase";
    else if (sp > w->stack_high)
        w->end_reason = "stack pointer left the thread's stack";
    else
        return true;
    return false;
}

/* ---- Frame facts ---------------------------------------------------------- */

/* The module of a frame (caller frames looked up at ip-1, the call), or for
 * addresses in no module their MemoryInfoList region. */
static void locate_frame(walk *w, dt_frame *f)
{
    f->module = dt_dump_module_at(w->dump, f->exact ? f->ip : f->ip - 1);
    const dt_memory_info *region = f->module ? NULL : dt_dump_memory_info_at(w->dump, f->ip);
    if (region) {
        f->has_region = true;
        f->region_type = region->type;
        f->region_protect = region->protect;
        f->likely_jit = region->type == 0x20000 && (region->protect & 0xF0) != 0;
    }
    f->on_stack = f->ip >= w->own_stack_low && f->ip < w->own_stack_high;
}

/* ---- Threads -------------------------------------------------------------- */

static void stack_bounds(walk *w, const dt_thread *t, uint64_t sp)
{
    w->stack_low = t->stack_start < sp ? t->stack_start : sp;
    w->stack_high = t->stack_start + t->stack_size;
    w->own_stack_low = t->stack_start;
    w->own_stack_high = w->stack_high;
    uint64_t base;
    /* NT_TIB (TEB at +0): StackBase at +8 on x64. */
    if (w->stack_high <= sp && dt_dump_read_u64(w->dump, t->teb + 8, &base) && base > sp)
        w->stack_high = base;
    if (w->stack_high <= sp)
        w->stack_high = UINT64_MAX; /* unknown: only the increasing-SP rule bounds the walk */
}

/* x64 registers from the context; for other CPUs only the instruction and
 * stack pointers (frame 0). */
static void load_context(walk *w, const dt_context *ctx)
{
    memset(&w->regs, 0, sizeof w->regs);
    if (ctx->cpu == DT_CPU_AMD64)
        for (int r = 0; r < 16; r++)
            w->regs.gpr[r] = ctx->regs[r];
    w->regs.rip = dt_context_ip(ctx);
    w->regs.gpr[REG_RSP] = dt_context_sp(ctx);
    w->exact = true;
}

static void walk_frames(walk *w)
{
    if (!push_frame(w, DT_TRUST_CONTEXT))
        return;
    while (w->count < w->max_frames) {
        uint64_t sp = w->regs.gpr[REG_RSP];
        int trust = step(w);
        if (trust < 0 || !caller_is_valid(w, sp))
            return;
        if (!push_frame(w, (dt_frame_trust)trust))
            return;
    }
    w->end_reason = "frame limit reached";
}

static void record_stack(walk *w, dt_thread_stack *out)
{
    out->frames = dt_arena_array(&w->stacks->arena, w->count ? w->count : 1, sizeof(dt_frame));
    if (out->frames) {
        for (size_t i = 0; i < w->count; i++) {
            out->frames[i] = w->frames[i];
            locate_frame(w, &out->frames[i]);
        }
        out->frame_count = w->count;
    }
    out->end_reason = w->end_reason;
}

/* ---- x86 and WOW64 ---------------------------------------------------------- */

static bool sink_frame(void *ctx, uint64_t ip, uint64_t sp, bool exact, dt_frame_trust trust)
{
    return append_frame(ctx, ip, sp, exact, trust);
}

static void sink_warn(void *ctx, uint64_t ip, const char *detail)
{
    walk *w = ctx;
    dt_diag_add(&w->stacks->diags, &w->stacks->arena, DT_DIAG_WARNING, "STACK WIN", -1,
                "thread %u at 0x%llx: the unwind program failed (%s); falling back",
                w->thread_id, (unsigned long long)ip, detail);
}

/* 32-bit stacks end below 4 GiB whatever else is known. */
static const uint64_t X86_ADDRESS_LIMIT = 0x100000000ull;

/* An x86 thread's stack: the stack descriptor, else NT_TIB32.StackBase (+4). */
static void x86_stack_bounds(walk *w, const dt_thread *t, uint64_t sp)
{
    uint32_t base;
    w->stack_low = t->stack_start < sp ? t->stack_start : sp;
    w->stack_high = t->stack_start + t->stack_size;
    w->own_stack_low = t->stack_start;
    w->own_stack_high = w->stack_high;
    if (w->stack_high <= sp && dt_dump_read_u32(w->dump, t->teb + 4, &base) && base > sp)
        w->stack_high = base;
    if (w->stack_high <= sp || w->stack_high > X86_ADDRESS_LIMIT)
        w->stack_high = X86_ADDRESS_LIMIT;
}

/* A WOW64 thread's 32-bit stack, from the 32-bit TEB when it was saved. */
static void wow64_stack_bounds(walk *w, const dt_thread *t, uint64_t sp)
{
    uint64_t low, high;
    w->stack_low = sp;
    w->stack_high = X86_ADDRESS_LIMIT;
    if (dt_wow64_stack_bounds(w->dump, t, &low, &high) && low <= sp && sp < high) {
        w->stack_low = w->own_stack_low = low;
        w->stack_high = w->own_stack_high = high;
    }
}

static void walk_x86(walk *w, const dt_context *ctx)
{
    x86_walk_input in = {.env = {w->dump, w->images, w->stack_low, w->stack_high},
                         .symbolizer = w->symbolizer, .max_frames = w->max_frames};
    for (int r = DT_X86_EAX; r <= DT_X86_EDI; r++)
        in.start.gpr[r] = (uint32_t)ctx->regs[r];
    in.start.eip = (uint32_t)ctx->regs[DT_X86_EIP];
    x86_frame_sink sink = {sink_frame, sink_warn, w};
    w->end_reason = dt_x86_walk(&in, &sink);
}

/* ---- Threads (continued) ------------------------------------------------------ */

/* The context frame 0 starts from: the exception's for the faulting thread
 * (a WOW64 thread's 32-bit one unless the exception context is x86). */
static const dt_context *start_context(const dt_dump *dump, const dt_thread *t, bool wow64,
                                       dt_context *wow64_context, dt_thread_stack *out)
{
    const dt_exception *e = dt_dump_exception(dump);
    bool faulting = e && e->thread_id == t->id && e->has_context;
    if (wow64 && !(faulting && e->context.cpu == DT_CPU_X86) &&
        dt_wow64_context(dump, t, wow64_context)) {
        out->wow64 = true;
        return wow64_context;
    }
    out->from_exception = faulting;
    if (faulting)
        return &e->context;
    return t->has_context ? &t->context : NULL;
}

static void walk_thread(dt_stacks *stacks, const dt_dump *dump, const dt_walk_options *options,
                        bool wow64, const dt_thread *t, dt_thread_stack *out)
{
    dt_context wow64_context;
    memset(out, 0, sizeof *out);
    out->thread = t;
    const dt_context *ctx = start_context(dump, t, wow64, &wow64_context, out);
    if (!ctx) {
        out->end_reason = "the thread has no context";
        return;
    }
    walk w = {.stacks = stacks, .dump = dump, .images = options ? options->images : NULL,
              .symbolizer = stacks->x86.symbolizer,
              .max_frames = DEFAULT_MAX_FRAMES, .thread_id = t->id};
    if (options && options->max_frames)
        w.max_frames = options->max_frames;
    load_context(&w, ctx);
    if (out->wow64) {
        wow64_stack_bounds(&w, t, w.regs.gpr[REG_RSP]);
        walk_x86(&w, ctx);
    } else if (ctx->cpu == DT_CPU_X86) {
        x86_stack_bounds(&w, t, w.regs.gpr[REG_RSP]);
        walk_x86(&w, ctx);
    } else if (ctx->cpu == DT_CPU_AMD64) {
        stack_bounds(&w, t, w.regs.gpr[REG_RSP]);
        walk_frames(&w);
    } else {
        /* Frame 0 is exact on any CPU; callers are walked for x64 and x86. */
        push_frame(&w, DT_TRUST_CONTEXT);
        w.end_reason = "caller frames are walked for x64 and x86 only";
    }
    record_stack(&w, out);
    free(w.frames);
}

static void leave_unwalked(const dt_thread *t, dt_thread_stack *out)
{
    memset(out, 0, sizeof *out);
    out->thread = t;
    out->end_reason = "the time budget ran out before this thread was walked";
}

void dt_stacks_note_deadline(dt_stacks *stacks, size_t left, const char *what)
{
    if (left == 0)
        return;
    stacks->cut_short = true;
    dt_diag_add(&stacks->diags, &stacks->arena, DT_DIAG_WARNING, "time budget", -1,
                "the time budget ran out: %zu of %zu threads were not %s", left,
                stacks->thread_count, what);
}

bool dt_stacks_cut_short(const dt_stacks *stacks)
{
    return stacks->cut_short;
}

/* Whether the thread's walk uses the x86 rules (an x86 or WOW64 thread). */
static bool walked_as_x86(const dt_thread_stack *s)
{
    return s->wow64 || (s->frame_count > 0 && s->thread->has_context &&
                        s->thread->context.cpu == DT_CPU_X86);
}

static bool is_wow64(const dt_stacks *stacks)
{
    return !stacks->x86.wow64_native && dt_wow64_process(stacks->dump, stacks->options.images);
}

dt_status dt_stacks_rewalk_x86(dt_stacks *stacks, dt_symbolizer *symbolizer)
{
    if (stacks->x86.symbolizer || !symbolizer)
        return DT_OK;
    stacks->x86.symbolizer = symbolizer;
    bool wow64 = is_wow64(stacks), walked = false;
    for (size_t i = 0; i < stacks->thread_count; i++) {
        dt_thread_stack *s = &stacks->threads[i];
        if (!walked_as_x86(s) || dt_clock_past(stacks->options.deadline_ns))
            continue; /* past the deadline the first walk stands */
        walk_thread(stacks, stacks->dump, &stacks->options, wow64, s->thread, s);
        walked = true;
    }
    if (!walked)
        return DT_OK;
    stacks->group_count = 0;
    return dt_group_stacks(stacks) ? DT_OK : DT_ERR_NOMEM;
}

dt_status dt_walk_threads_ex(dt_stacks **out, const dt_dump *dump, const dt_walk_options *options,
                             const dt_walk_x86_options *x86)
{
    *out = NULL;
    dt_stacks *stacks = calloc(1, sizeof *stacks);
    size_t n;
    const dt_thread *threads = dt_dump_threads(dump, &n);
    if (stacks)
        stacks->threads = dt_arena_array(&stacks->arena, n ? n : 1, sizeof(dt_thread_stack));
    if (!stacks || !stacks->threads) {
        dt_stacks_free(stacks);
        return DT_ERR_NOMEM;
    }
    stacks->dump = dump;
    if (options)
        stacks->options = *options;
    if (x86)
        stacks->x86 = *x86;
    bool wow64 = is_wow64(stacks);
    size_t walked = 0;
    for (; walked < n && !dt_clock_past(stacks->options.deadline_ns); walked++)
        walk_thread(stacks, dump, &stacks->options, wow64, &threads[walked],
                    &stacks->threads[walked]);
    for (size_t i = walked; i < n; i++)
        leave_unwalked(&threads[i], &stacks->threads[i]);
    stacks->thread_count = n;
    dt_stacks_note_deadline(stacks, n - walked, "walked");
    if (!dt_group_stacks(stacks)) {
        dt_stacks_free(stacks);
        return DT_ERR_NOMEM;
    }
    dt_diag_finish(&stacks->diags, &stacks->arena);
    *out = stacks;
    return DT_OK;
}

dt_status dt_walk_threads(dt_stacks **out, const dt_dump *dump, const dt_walk_options *options)
{
    return dt_walk_threads_ex(out, dump, options, NULL);
}

const dt_thread_stack *dt_stacks_threads(const dt_stacks *stacks, size_t *count)
{
    *count = stacks->thread_count;
    return stacks->threads;
}

const dt_diagnostic *dt_stacks_diagnostics(const dt_stacks *stacks, size_t *count)
{
    *count = stacks->diags.count;
    return stacks->diags.items;
}

void dt_stacks_free(dt_stacks *stacks)
{
    if (!stacks)
        return;
    dt_diag_list_free(&stacks->diags);
    dt_arena_release(&stacks->arena);
    free(stacks);
}

/* A NUL-terminated string built in out[0..size), cut where it does not fit (like snprintf). */
typedef struct bounded_text {
    char *out;
    size_t size;
    size_t used;
} bounded_text;

static void put_text(bounded_text *t, const char *text, size_t length)
{
    size_t room = t->size - 1 - t->used;
    size_t kept = length < room ? length : room;
    memcpy(t->out + t->used, text, kept);
    t->used += kept;
    t->out[t->used] = '\0';
}

static void put_hex(bounded_text *t, uint64_t value)
{
    char digits[2 + 16];
    char *first = digits + sizeof digits;
    do {
        *--first = "0123456789abcdef"[value & 0xF];
        value >>= 4;
    } while (value);
    *--first = 'x';
    *--first = '0';
    put_text(t, first, (size_t)(digits + sizeof digits - first));
}

/* Module name without its extension, as WinDbg shows it, from at most its
 * first 127 bytes. */
static void put_module_stem(bounded_text *t, const char *name)
{
    size_t length = 0;
    while (length < 127 && name[length])
        length++;
    size_t end = length;
    while (end > 1 && name[end - 1] != '.')
        end--;
    put_text(t, name, end > 1 ? end - 1 : length);
}

void dt_frame_display(const dt_frame *frame, char *out, size_t size)
{
    if (size == 0)
        return;
    bounded_text t = {out, size, 0};
    out[0] = '\0';
    if (!frame->module) {
        put_hex(&t, frame->ip);
        return;
    }
    put_module_stem(&t, frame->module->name);
    if (frame->function) {
        put_text(&t, "!", 1);
        put_text(&t, frame->function, strlen(frame->function));
        put_text(&t, "+", 1);
        put_hex(&t, frame->function_offset);
    } else {
        put_text(&t, "+", 1);
        put_hex(&t, frame->ip - frame->module->base);
    }
}
