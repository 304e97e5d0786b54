/* synth_process: modules, JIT code and threads turned into dumps and files. */
#include "synth_process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_json.h"

enum {
    STACK_AREA = 0x00200000,      /* thread stacks from here, one slot each */
    STACK_SLOT = 0x40000,
    TEB_TOP = 0x7FFFFFDE000 >> 12, /* TEBs below 0x7FFFFFDE000, two pages apart */
    X86_TEB_TOP = 0x7FFDF000 >> 12, /* x86 TEBs one page apart */
    WOW64_TEB_TOP = 0x7EFDB000 >> 12, /* TEB64 (+ TEB32 at +0x2000) three pages apart */
    X86_STACK_AREA = 0x02600000,  /* x86 stacks: above the usual exe and JIT bases */
    NATIVE_STACK_AREA = 0x06000000, /* WOW64: the 64-bit stacks */
    TEB32_OFFSET = 0x2000,
    TEB64_TLS_CPURESERVED = 0x1480 + 8, /* TlsSlots[WOW64_TLS_CPURESERVED = 1] */
    WOW64_CPU_AREA = 0x1C00,       /* WOW64_CPURESERVED placed in the TEB64 pages */
    WOW64_TEB_SIZE = 0x3000,
    I386_MACHINE = 0x14C,
    SPARE_CALL_MIN = 0x40,        /* spare call sites return at or after this */
    SPARE_CALL_GAP = 0x10,
    NORMAL_PRIORITY_CLASS = 0x20
};

static const uint64_t FILETIME_UNIX_EPOCH = 116444736000000000ull; /* 1970 in FILETIME */

typedef struct unit {
    char *name;
    bool native;           /* a 64-bit module of a WOW64 process */
    synth_pe *pe;          /* a module, or NULL for a JIT region */
    synth_text *jit;
    uint64_t base;
    uint32_t size;         /* JIT region size (modules: SizeOfImage after layout) */
    char *path;
    uint16_t version[4];
    synth_buf image;       /* built PE file, or the JIT region's bytes */
} unit;

typedef struct thread_rec {
    synth_thread_spec spec;
    synth_frame_spec *frames;
    char *role;
    char *name;
    synth_frame *resolved;
    uint64_t teb;
    uint64_t stack_base;
    synth_stack stack;
    synth_frame_spec *native_frames; /* WOW64: the 64-bit side */
    synth_frame *native_resolved;
    synth_stack native_stack;
} thread_rec;

struct synth_process {
    synth_process_options o;
    char *exe_name;
    char *csd;
    unit *units;
    size_t unit_count;
    thread_rec *threads;
    size_t thread_count;
    synth_dump_decorator decorator;
    void *decorator_context;
    bool finished;
};

synth_process *synth_process_new(const synth_process_options *options)
{
    synth_process *p = synth_alloc(sizeof *p);
    p->o = *options;
    p->exe_name = synth_strdup(options->exe_name ? options->exe_name : "synth.exe");
    p->csd = options->csd ? synth_strdup(options->csd) : NULL;
    p->o.exe_name = p->exe_name;
    p->o.csd = p->csd;
    return p;
}

static void free_frame_specs(synth_frame_spec *frames, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        free((char *)frames[k].module);
        free((char *)frames[k].function);
    }
    free(frames);
}

static synth_frame_spec *copy_frame_specs(const synth_frame_spec *frames, size_t count)
{
    synth_frame_spec *copy = synth_alloc((count ? count : 1) * sizeof *copy);
    for (size_t k = 0; k < count; k++) {
        copy[k] = frames[k];
        copy[k].module = synth_strdup(frames[k].module);
        copy[k].function = synth_strdup(frames[k].function);
    }
    return copy;
}

void synth_process_free(synth_process *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->unit_count; i++) {
        unit *u = &p->units[i];
        free(u->name);
        free(u->path);
        synth_pe_free(u->pe);
        synth_text_free(u->jit);
        synth_buf_free(&u->image);
    }
    for (size_t i = 0; i < p->thread_count; i++) {
        thread_rec *t = &p->threads[i];
        free_frame_specs(t->frames, t->spec.frame_count);
        free_frame_specs(t->native_frames, t->spec.native_frame_count);
        free(t->native_resolved);
        synth_stack_free(&t->native_stack);
        free(t->role);
        free(t->name);
        free(t->resolved);
        synth_stack_free(&t->stack);
    }
    free(p->units);
    free(p->threads);
    free(p->exe_name);
    free(p->csd);
    free(p);
}

static void require_open(const synth_process *p)
{
    if (p->finished)
        synth_fail("process changed after synth_process_finish");
}

static unit *new_unit(synth_process *p, const char *name, uint64_t base)
{
    require_open(p);
    p->units = synth_grow(p->units, p->unit_count + 1, sizeof *p->units);
    unit *u = &p->units[p->unit_count++];
    memset(u, 0, sizeof *u);
    u->name = synth_strdup(name);
    u->base = base;
    synth_buf_init(&u->image);
    return u;
}

/* The PDB name of a module without one: its name with ".pdb". */
static void default_pdb_name(const char *name, char *out, size_t size)
{
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    snprintf(out, size, "%.*s.pdb", (int)stem, name);
}

static int add_module(synth_process *p, const synth_module_spec *spec, synth_cpu machine)
{
    unit *u = new_unit(p, spec->name, spec->base);
    char pdb[256];
    default_pdb_name(spec->name, pdb, sizeof pdb);
    synth_pe_options o = {
        .name = spec->name,
        .image_base = spec->base,
        .timestamp = spec->timestamp,
        .machine = machine,
        .is_dll = strcmp(spec->name, p->exe_name) != 0,
        .has_codeview = true,
        .codeview = {.age = 2, .pdb_name = spec->pdb_name ? spec->pdb_name : pdb}};
    char seed[300];
    snprintf(seed, sizeof seed, "%s#%u", spec->name, p->o.seed);
    synth_guid_from_seed(o.codeview.guid, seed);
    u->pe = synth_pe_new(&o);
    u->path = synth_strdup(spec->path ? spec->path : spec->name);
    memcpy(u->version, spec->version, sizeof u->version);
    return (int)p->unit_count - 1;
}

int synth_process_add_module(synth_process *p, const synth_module_spec *spec)
{
    return add_module(p, spec, p->o.cpu);
}

int synth_process_add_native_module(synth_process *p, const synth_module_spec *spec)
{
    if (!p->o.wow64)
        synth_fail("native module %s: the process is not WOW64", spec->name);
    int index = add_module(p, spec, SYNTH_CPU_AMD64);
    p->units[index].native = true;
    return index;
}

int synth_process_add_jit_region(synth_process *p, const char *name, uint64_t base, uint32_t size)
{
    unit *u = new_unit(p, name, base);
    u->jit = synth_text_new(p->o.cpu);
    u->size = size;
    return (int)p->unit_count - 1;
}

static synth_text *unit_text(const unit *u)
{
    return u->pe ? synth_pe_text(u->pe) : u->jit;
}

static unit *get_unit(const synth_process *p, int index)
{
    if (index < 0 || (size_t)index >= p->unit_count)
        synth_fail("unit %d out of range", index);
    return &p->units[index];
}

int synth_process_add_function(synth_process *p, int unit_index, const synth_function *f)
{
    require_open(p);
    return synth_text_add_function(unit_text(get_unit(p, unit_index)), f);
}

void synth_process_add_forwarder(synth_process *p, int unit_index, const char *export_name,
                                 const char *forward_to)
{
    require_open(p);
    unit *u = get_unit(p, unit_index);
    if (!u->pe)
        synth_fail("a JIT region has no exports");
    synth_pe_add_forwarder(u->pe, export_name, forward_to, 0);
}

void synth_process_add_alias(synth_process *p, int unit_index, const char *export_name,
                             const char *function)
{
    require_open(p);
    unit *u = get_unit(p, unit_index);
    int index = u->pe ? synth_text_find(unit_text(u), function) : -1;
    if (index < 0)
        synth_fail("alias %s: no function %s in %s", export_name, function, u->name);
    synth_pe_add_alias(u->pe, export_name, index, 0);
}

void synth_process_add_thread(synth_process *p, const synth_thread_spec *thread)
{
    require_open(p);
    if (thread->frame_count == 0)
        synth_fail("thread %u has no frames", thread->id);
    p->threads = synth_grow(p->threads, p->thread_count + 1, sizeof *p->threads);
    thread_rec *t = &p->threads[p->thread_count++];
    memset(t, 0, sizeof *t);
    t->spec = *thread;
    if ((thread->native_frame_count != 0) != p->o.wow64)
        synth_fail("thread %u: native frames are for (and required by) WOW64 processes",
                   thread->id);
    t->frames = copy_frame_specs(thread->frames, thread->frame_count);
    t->native_frames = copy_frame_specs(thread->native_frames, thread->native_frame_count);
    t->role = synth_strdup(thread->role ? thread->role : "");
    t->name = thread->name ? synth_strdup(thread->name) : NULL;
    t->spec.frames = t->frames;
    t->spec.native_frames = t->native_frames;
    t->spec.role = t->role;
    t->spec.name = t->name;
}

void synth_process_set_decorator(synth_process *p, synth_dump_decorator decorator, void *context)
{
    p->decorator = decorator;
    p->decorator_context = context;
}

/* ---- Finishing ------------------------------------------------------------ */

static synth_frame resolve_frame(const synth_process *p, const synth_frame_spec *f, bool native)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        if (u->native != native || strcmp(u->name, f->module) != 0)
            continue;
        int function = synth_text_find(unit_text(u), f->function);
        if (function < 0)
            synth_fail("frame %s!%s: no such function", f->module, f->function);
        return (synth_frame){unit_text(u), function, f->offset};
    }
    synth_fail("frame %s!%s: no such module", f->module, f->function);
}

static bool starts_with_machine_frame(const synth_frame *f)
{
    const synth_function *fn =
        synth_text_function(f->text, synth_text_primary(f->text, f->function));
    return fn->op_count > 0 && fn->ops[0].kind == SYNTH_OP_MACHFRAME;
}

/* An x86 syscall stub's `call [edx]` goes through SharedUserData to
 * KiFastSystemCall: no call site of ours. */
static bool calls_system_stub(const synth_frame *caller)
{
    const synth_function *f = synth_text_function(caller->text, caller->function);
    return f->kind == SYNTH_FUNC_SYSCALL && synth_text_slot_size(caller->text) == 4;
}

/* Each caller frame gets a call site at its offset that targets its callee
 * (except when the callee was entered through a machine frame). */
static synth_frame *link_frames(synth_process *p, uint32_t id, const synth_frame_spec *specs,
                                size_t count, bool native)
{
    synth_frame *resolved = synth_alloc((count ? count : 1) * sizeof *resolved);
    for (size_t k = 0; k < count; k++)
        resolved[k] = resolve_frame(p, &specs[k], native);
    for (size_t k = 1; k < count; k++) {
        const synth_frame *callee = &resolved[k - 1], *caller = &resolved[k];
        if (starts_with_machine_frame(callee) || calls_system_stub(caller))
            continue;
        if (specs[k].at != SYNTH_AT_OFFSET)
            synth_fail("thread %u frame %zu: a caller frame must be at a call site", id, k);
        synth_target target = {callee->text, synth_text_primary(callee->text, callee->function),
                               0};
        synth_text_add_call((synth_text *)caller->text, caller->function, caller->offset, target);
    }
    return resolved;
}

static void derive_call_sites(synth_process *p)
{
    for (size_t i = 0; i < p->thread_count; i++) {
        thread_rec *t = &p->threads[i];
        t->resolved = link_frames(p, t->spec.id, t->frames, t->spec.frame_count, false);
        t->native_resolved = link_frames(p, t->spec.id, t->native_frames,
                                         t->spec.native_frame_count, true);
    }
}

static uint32_t largest_return(const synth_process *p, const synth_text *text, int function)
{
    uint32_t largest = 0;
    for (size_t i = 0; i < p->thread_count; i++) {
        const thread_rec *t = &p->threads[i];
        for (size_t k = 1; k < t->spec.frame_count + t->spec.native_frame_count; k++) {
            if (k == t->spec.frame_count)
                continue; /* the native list's innermost frame */
            const synth_frame *f = k < t->spec.frame_count
                                       ? &t->resolved[k]
                                       : &t->native_resolved[k - t->spec.frame_count];
            if (f->text == text && f->function == function && f->offset > largest)
                largest = f->offset;
        }
    }
    return largest;
}

/* The first function of the next module of the same kind (a call target
 * for spare calls). */
static synth_target spare_target(const synth_process *p, size_t from)
{
    for (size_t step = 1; step <= p->unit_count; step++) {
        const unit *u = &p->units[(from + step) % p->unit_count];
        if (u->pe && u->native == p->units[from].native &&
            synth_text_function_count(unit_text(u)) > 0)
            return (synth_target){unit_text(u), 0, 0};
    }
    synth_fail("no module to aim spare calls at");
}

/* Every frame function of a module gets one more call site past those the
 * frames use: its return address is a decoy candidate. */
static void add_spare_calls(synth_process *p)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        unit *u = &p->units[i];
        if (!u->pe)
            continue;
        synth_text *text = unit_text(u);
        synth_target target = spare_target(p, i);
        for (size_t f = 0; f < synth_text_function_count(text); f++) {
            if (synth_text_function(text, (int)f)->kind != SYNTH_FUNC_FRAME)
                continue;
            uint32_t last = largest_return(p, text, (int)f);
            uint32_t at = (last > SPARE_CALL_MIN ? last : SPARE_CALL_MIN) + SPARE_CALL_GAP;
            synth_text_add_call(text, (int)f, at, target);
        }
    }
}

/* The offset of the n-th instruction boundary of a prolog or epilog. */
static uint32_t symbolic_offset(const synth_frame *f, const synth_frame_spec *spec)
{
    const synth_code *code = synth_text_code(f->text, f->function);
    uint32_t start = 0, end = code->prolog_size, boundary = 0;
    if (spec->at == SYNTH_AT_EPILOG) {
        if (code->epilog_count == 0)
            synth_fail("%s!%s has no epilog", spec->module, spec->function);
        start = code->epilogs[0].start;
        end = code->epilogs[0].end;
    }
    for (size_t i = 0; i < code->insn_count; i++) {
        const synth_insn *in = &code->insns[i];
        if (in->offset < start || in->offset >= end)
            continue;
        if (boundary++ == spec->offset)
            return in->offset;
    }
    if (spec->at == SYNTH_AT_PROLOG && boundary == spec->offset)
        return end;
    synth_fail("%s!%s has no instruction %u there", spec->module, spec->function, spec->offset);
}

static void resolve_symbolic_offsets(synth_process *p)
{
    for (size_t i = 0; i < p->thread_count; i++) {
        thread_rec *t = &p->threads[i];
        for (size_t k = 0; k < t->spec.frame_count; k++)
            if (t->frames[k].at != SYNTH_AT_OFFSET)
                t->resolved[k].offset = symbolic_offset(&t->resolved[k], &t->frames[k]);
    }
}

static void layout_units(synth_process *p)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        unit *u = &p->units[i];
        if (u->pe) {
            synth_pe_layout(u->pe);
            u->size = synth_pe_size_of_image(u->pe);
        } else {
            uint32_t code = (synth_text_layout(u->jit, u->base) + 15) & ~15u;
            if (code + synth_text_slot_size(u->jit) * synth_text_thunk_count(u->jit) > u->size)
                synth_fail("JIT region %s of 0x%x bytes is too small", u->name, u->size);
        }
    }
    for (size_t i = 0; i < p->unit_count; i++)
        for (size_t k = i + 1; k < p->unit_count; k++) {
            const unit *a = &p->units[i], *b = &p->units[k];
            if (a->base < b->base + b->size && b->base < a->base + a->size)
                synth_fail("%s and %s overlap", a->name, b->name);
        }
}

/* A JIT region: code at its base, thunk slots after the code, zeros after. */
static void build_jit(unit *u)
{
    uint32_t code = synth_text_size(u->jit);
    uint32_t slots = (code + 15) & ~15u; /* 16-aligned, as layout_units sized it */
    synth_buf_reserve(&u->image, u->size);
    synth_text_emit(u->jit, u->base + slots, u->image.data);
    synth_text_emit_slots(u->jit, u->image.data + slots);
}

static void build_units(synth_process *p)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        unit *u = &p->units[i];
        if (u->pe)
            synth_pe_build(u->pe, &u->image);
        else
            build_jit(u);
    }
}

static bool used_by_frames(const synth_frame *frames, size_t count, uint64_t address)
{
    for (size_t k = 1; k < count; k++) {
        const synth_frame *f = &frames[k];
        if (synth_text_function_address(f->text, f->function) + f->offset == address)
            return true;
    }
    return false;
}

/* Return addresses of every call site in the modules (native ones for a
 * native stack) that the stack's frames do not use. */
static uint64_t *decoy_pool(const synth_process *p, const synth_frame *frames, size_t frame_count,
                            bool native, size_t *count)
{
    size_t n = 0, cap = 16;
    uint64_t *pool = synth_alloc(cap * sizeof *pool);
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        const synth_text *text = u->pe && u->native == native ? unit_text(u) : NULL;
        for (size_t f = 0; text && f < synth_text_function_count(text); f++) {
            const synth_code *code = synth_text_code(text, (int)f);
            uint64_t start = synth_text_function_address(text, (int)f);
            for (size_t c = 0; c < code->call_count; c++) {
                uint64_t address = start + code->calls[c].return_offset;
                if (used_by_frames(frames, frame_count, address))
                    continue;
                if (n == cap)
                    pool = synth_grow(pool, cap *= 2, sizeof *pool);
                pool[n++] = address;
            }
        }
    }
    *count = n;
    return pool;
}

static void build_stack(const synth_process *p, const synth_frame *frames, size_t count,
                        bool native, uint64_t base, uint32_t seed, synth_stack *out)
{
    size_t decoy_count;
    uint64_t *decoys = decoy_pool(p, frames, count, native, &decoy_count);
    synth_stack_spec spec = {frames, count, base, decoys, decoy_count, seed,
                             native ? SYNTH_CPU_AMD64 : p->o.cpu};
    synth_stack_build(&spec, out);
    free(decoys);
}

static uint64_t teb_address(const synth_process *p, size_t i)
{
    if (p->o.wow64)
        return ((uint64_t)WOW64_TEB_TOP - 3 * i) << 12;
    if (p->o.cpu == SYNTH_CPU_X86)
        return ((uint64_t)X86_TEB_TOP - i) << 12;
    return ((uint64_t)TEB_TOP - 2 * i) << 12;
}

static void build_stacks(synth_process *p)
{
    for (size_t i = 0; i < p->thread_count; i++) {
        thread_rec *t = &p->threads[i];
        uint32_t seed = p->o.seed * 7919u + t->spec.id;
        uint64_t area = p->o.cpu == SYNTH_CPU_X86 ? X86_STACK_AREA : STACK_AREA;
        t->stack_base = area + (i + 1) * (uint64_t)STACK_SLOT;
        t->teb = teb_address(p, i);
        build_stack(p, t->resolved, t->spec.frame_count, false, t->stack_base, seed, &t->stack);
        if (p->o.wow64)
            build_stack(p, t->native_resolved, t->spec.native_frame_count, true,
                        NATIVE_STACK_AREA + (i + 1) * (uint64_t)STACK_SLOT, seed ^ 0x64,
                        &t->native_stack);
    }
}

void synth_process_finish(synth_process *p)
{
    require_open(p);
    derive_call_sites(p);
    add_spare_calls(p);
    layout_units(p);
    resolve_symbolic_offsets(p);
    build_units(p);
    build_stacks(p);
    p->finished = true;
}

/* ---- Dumps ------------------------------------------------------------------ */

static uint64_t filetime(uint32_t time_t_value)
{
    return FILETIME_UNIX_EPOCH + (uint64_t)time_t_value * 10000000u;
}

static void add_system_and_misc(const synth_process *p, synth_dump *d)
{
    bool x86_writer = p->o.cpu == SYNTH_CPU_X86 && !p->o.wow64;
    synth_system_info si = {.cpu = x86_writer ? SYNTH_CPU_X86 : SYNTH_CPU_AMD64,
                            .vendor = x86_writer ? "GenuineIntel" : NULL, .processor_level = 6,
                            .processor_revision = 0x1A05,
                            .processor_count = p->o.processor_count,
                            .product_type = p->o.product_type, .major = p->o.os_major,
                            .minor = p->o.os_minor, .build = p->o.os_build, .csd = p->o.csd,
                            .suite_mask = 0x110};
    synth_dump_set_system_info(d, &si);
    synth_misc_info mi = {.size = 232, .process_id = p->o.process_id,
                          .process_create_time = p->o.process_create_time,
                          .process_user_time = 42, .process_kernel_time = 7,
                          .processor_max_mhz = 2933, .processor_current_mhz = 2933,
                          .processor_mhz_limit = 2933, .time_zone_standard_name = "UTC",
                          .time_zone_daylight_name = "UTC"};
    synth_dump_set_misc_info(d, &mi);
}

/* The stack the dump writer saw: the native one under WOW64. */
static const synth_stack *written_stack(const synth_process *p, const thread_rec *t)
{
    return p->o.wow64 ? &t->native_stack : &t->stack;
}

static void add_threads(const synth_process *p, synth_dump *d)
{
    for (size_t i = 0; i < p->thread_count; i++) {
        const thread_rec *t = &p->threads[i];
        const synth_stack *s = written_stack(p, t);
        synth_thread th = {.id = t->spec.id, .suspend_count = t->spec.suspend_count,
                           .priority_class = NORMAL_PRIORITY_CLASS,
                           .priority = (uint32_t)t->spec.priority, .teb = t->teb,
                           .stack_start = s->start, .stack = s->bytes,
                           .stack_size = s->size, .has_context = true,
                           .context = s->context};
        synth_dump_add_thread(d, &th);
        if (t->name)
            synth_dump_add_thread_name(d, t->spec.id, t->name);
    }
}

static void add_modules(const synth_process *p, synth_dump *d)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        if (!u->pe)
            continue;
        synth_module m;
        synth_pe_module_entry(u->pe, u->path, u->version, &m);
        synth_dump_add_module(d, &m);
    }
}

static void add_thread_infos(const synth_process *p, synth_dump *d)
{
    for (size_t i = 0; i < p->thread_count; i++) {
        const thread_rec *t = &p->threads[i];
        const synth_frame *outer = &t->resolved[t->spec.frame_count - 1];
        synth_thread_info ti = {
            .thread_id = t->spec.id,
            .create_time = t->spec.create_time ? t->spec.create_time
                                               : filetime(p->o.process_create_time) + 10000u * i,
            .user_time = t->spec.user_time, .kernel_time = t->spec.user_time / 4,
            .start_address = synth_text_function_address(outer->text, outer->function),
            .affinity = p->o.processor_count >= 64 ? ~0ull : (1ull << p->o.processor_count) - 1};
        synth_dump_add_thread_info(d, &ti);
    }
}

static void add_private_region(synth_dump *d, uint64_t base, uint64_t size, uint32_t protect)
{
    synth_memory_info mi = {.base = base, .allocation_base = base, .allocation_protect = protect,
                            .region_size = size, .state = SYNTH_MEM_COMMIT, .protect = protect,
                            .type = SYNTH_MEM_PRIVATE};
    synth_dump_add_memory_info(d, &mi);
}

/* MemoryInfoList: image sections, JIT regions (private, executable) and
 * the committed part of each stack. */
static void add_memory_infos(const synth_process *p, synth_dump *d)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        if (u->pe)
            synth_pe_add_memory_infos(u->pe, d);
        else
            add_private_region(d, u->base, u->size, SYNTH_PAGE_EXECUTE_READWRITE);
    }
    for (size_t i = 0; i < p->thread_count; i++) {
        const synth_stack *s = &p->threads[i].stack;
        uint64_t page = s->start & ~(uint64_t)0xFFF;
        add_private_region(d, page, p->threads[i].stack_base - page, SYNTH_PAGE_READWRITE);
        if (!p->o.wow64)
            continue;
        s = &p->threads[i].native_stack;
        page = s->start & ~(uint64_t)0xFFF;
        add_private_region(d, page, s->start + s->size - page, SYNTH_PAGE_READWRITE);
        add_private_region(d, p->threads[i].teb, WOW64_TEB_SIZE, SYNTH_PAGE_READWRITE);
    }
}

/* A WOW64 thread's TEBs (FORMATS.md section 3): NT_TIB64 StackBase +8 and
 * StackLimit +0x10; TlsSlots[1] at +0x1488 points to WOW64_CPURESERVED
 * {u16 Flags, u16 Machine} with the WOW64_CONTEXT (x86 CONTEXT) at +4;
 * TEB32 at +0x2000 with NT_TIB32 StackBase +4 and StackLimit +8. The
 * 32-bit stack is saved too (a real writer saves it when asked to). */
static void add_wow64_state(const thread_rec *t, synth_dump *d)
{
    uint8_t teb[WOW64_TEB_SIZE] = {0};
    synth_put_u64(teb + 8, t->native_stack.start + t->native_stack.size);
    synth_put_u64(teb + 0x10, t->native_stack.start & ~(uint64_t)0xFFF);
    synth_put_u64(teb + TEB64_TLS_CPURESERVED, t->teb + WOW64_CPU_AREA);
    synth_put_u16(teb + WOW64_CPU_AREA + 2, I386_MACHINE);
    synth_context_encode(&t->stack.context, teb + WOW64_CPU_AREA + 4);
    synth_put_u32(teb + TEB32_OFFSET + 4, (uint32_t)t->stack_base);
    synth_put_u32(teb + TEB32_OFFSET + 8, (uint32_t)(t->stack.start & ~(uint64_t)0xFFF));
    synth_dump_add_memory(d, t->teb, teb, sizeof teb);
    synth_dump_add_memory(d, t->stack.start, t->stack.bytes, t->stack.size);
}

static void add_full_memory(const synth_process *p, synth_dump *d)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        if (u->pe)
            synth_pe_add_to_dump_memory(u->pe, &u->image, d);
        else
            synth_dump_add_memory(d, u->base, u->image.data, u->image.size);
    }
}

synth_dump *synth_process_dump(const synth_process *p, synth_variant variant)
{
    if (!p->finished)
        synth_fail("synth_process_dump before synth_process_finish");
    synth_dump *d = synth_dump_new();
    synth_dump_set_timestamp(d, p->o.dump_time);
    synth_dump_set_flags(d, SYNTH_MINIDUMP_WITH_HANDLE_DATA | SYNTH_MINIDUMP_WITH_UNLOADED_MODULES |
                                SYNTH_MINIDUMP_WITH_FULL_MEMORY_INFO |
                                SYNTH_MINIDUMP_WITH_THREAD_INFO);
    if (variant == SYNTH_VARIANT_FULL)
        synth_dump_set_full_memory(d);
    add_system_and_misc(p, d);
    add_threads(p, d);
    add_modules(p, d);
    add_memory_infos(p, d);
    add_thread_infos(p, d);
    if (variant == SYNTH_VARIANT_FULL)
        add_full_memory(p, d);
    for (size_t i = 0; p->o.wow64 && i < p->thread_count; i++)
        add_wow64_state(&p->threads[i], d);
    if (p->decorator)
        p->decorator(d, variant, p->decorator_context);
    return d;
}

/* ---- Files ---------------------------------------------------------------------- */

static int write_dump_variant(const synth_process *p, const char *dir, synth_variant variant)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.dmp", dir, variant == SYNTH_VARIANT_FULL ? "full" : "mini");
    synth_dump *d = synth_process_dump(p, variant);
    int rc = synth_dump_write_file(d, path);
    synth_dump_free(d);
    return rc;
}

static const unit *unit_of_text(const synth_process *p, const synth_text *text)
{
    for (size_t i = 0; i < p->unit_count; i++)
        if (unit_text(&p->units[i]) == text)
            return &p->units[i];
    synth_fail("frame text belongs to no unit");
}

/* {"module": name or null (JIT), "function", "offset", "address" (hex
 * string), "export": exported name or null} */
static void json_frame(FILE *f, const synth_process *p, const synth_frame *fr, uint64_t pc)
{
    const unit *u = unit_of_text(p, fr->text);
    const synth_function *fn = synth_text_function(fr->text, fr->function);
    fputs("        {\"module\": ", f);
    if (u->pe)
        synth_json_string(f, u->name);
    else
        fputs("null", f);
    fputs(", \"function\": ", f);
    synth_json_string(f, fn->name);
    fprintf(f, ", \"offset\": %u, \"address\": \"0x%llx\", \"export\": ", fr->offset,
            (unsigned long long)pc);
    if (fn->export_name)
        synth_json_string(f, fn->export_name);
    else
        fputs("null", f);
    fputc('}', f);
}

/* A native module whose name a 32-bit module also has (ntdll.dll). */
static bool shadowed(const synth_process *p, const unit *u)
{
    for (size_t i = 0; u->native && i < p->unit_count; i++)
        if (p->units[i].pe && !p->units[i].native && strcmp(p->units[i].name, u->name) == 0)
            return true;
    return false;
}

static void json_modules(FILE *f, const synth_process *p)
{
    fputs("  \"modules\": [\n", f);
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        fputs(i ? ",\n    " : "    ", f);
        if (u->pe && !shadowed(p, u)) {
            synth_json_image(f, u->pe);
            continue;
        }
        if (u->pe) {
            /* In the full dump's memory only: images/ has the 32-bit namesake. */
            fputs("{\"name\": ", f);
            synth_json_string(f, u->name);
            fprintf(f, ", \"kind\": \"native-in-dump\", \"machine\": \"amd64\", "
                       "\"base\": \"0x%llx\", \"size\": %u}",
                    (unsigned long long)u->base, u->size);
            continue;
        }
        fputs("{\"name\": ", f);
        synth_json_string(f, u->name);
        fprintf(f, ", \"kind\": \"jit\", \"base\": \"0x%llx\", \"size\": %u}",
                (unsigned long long)u->base, u->size);
    }
    fputs("\n  ],\n", f);
}

static void json_frame_list(FILE *f, const synth_process *p, const synth_frame *frames,
                            const synth_stack *stack, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        json_frame(f, p, &frames[k], stack->frames[k].pc);
        fputs(k + 1 < count ? ",\n" : "\n", f);
    }
}

static void json_threads(FILE *f, const synth_process *p)
{
    fputs("  \"threads\": [\n", f);
    for (size_t i = 0; i < p->thread_count; i++) {
        const thread_rec *t = &p->threads[i];
        fprintf(f, "    {\"id\": %u, \"role\": ", t->spec.id);
        synth_json_string(f, t->role);
        if (t->name) {
            fputs(", \"name\": ", f);
            synth_json_string(f, t->name);
        }
        fputs(", \"frames\": [\n", f);
        json_frame_list(f, p, t->resolved, &t->stack, t->spec.frame_count);
        if (p->o.wow64) {
            fputs("      ], \"native_frames\": [\n", f);
            json_frame_list(f, p, t->native_resolved, &t->native_stack,
                            t->spec.native_frame_count);
        }
        fprintf(f, "      ]}%s\n", i + 1 < p->thread_count ? "," : "");
    }
    fputs("  ]\n", f);
}

static int write_expected(const synth_process *p, const char *dir, const char *scenario)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/expected.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("{\n  \"scenario\": ", f);
    synth_json_string(f, scenario);
    fputs(",\n  \"process\": ", f);
    synth_json_string(f, p->exe_name);
    fprintf(f, ",\n  \"process_id\": %u,\n  \"cpu\": \"%s\",\n  \"wow64\": %s,\n",
            p->o.process_id, p->o.cpu == SYNTH_CPU_X86 ? "x86" : "amd64",
            p->o.wow64 ? "true" : "false");
    fputs("  \"dumps\": {\"full\": \"full.dmp\", \"mini\": \"mini.dmp\"},\n", f);
    fputs("  \"images\": \"images\",\n  \"symbols\": \"symbols\",\n", f);
    json_modules(f, p);
    json_threads(f, p);
    fputs("}\n", f);
    return fclose(f);
}

static int write_images_and_symbols(const synth_process *p, const char *dir)
{
    for (size_t i = 0; i < p->unit_count; i++) {
        const unit *u = &p->units[i];
        if (u->pe && !shadowed(p, u) && synth_pe_write_files(u->pe, &u->image, dir) != 0)
            return -1;
    }
    return 0;
}

int synth_process_write(const synth_process *p, const char *dir, const char *scenario)
{
    if (synth_make_directories(dir) != 0)
        return -1;
    if (write_dump_variant(p, dir, SYNTH_VARIANT_FULL) != 0 ||
        write_dump_variant(p, dir, SYNTH_VARIANT_MINI) != 0)
        return -1;
    if (write_images_and_symbols(p, dir) != 0)
        return -1;
    return write_expected(p, dir, scenario);
}

/* ---- Access ---------------------------------------------------------------------- */

size_t synth_process_unit_count(const synth_process *p) { return p->unit_count; }
synth_cpu synth_process_cpu(const synth_process *p) { return p->o.cpu; }
size_t synth_process_thread_count(const synth_process *p) { return p->thread_count; }

const synth_pe *synth_process_pe(const synth_process *p, int unit_index)
{
    return get_unit(p, unit_index)->pe;
}

const synth_buf *synth_process_image(const synth_process *p, int unit_index)
{
    return &get_unit(p, unit_index)->image;
}

const synth_text *synth_process_text(const synth_process *p, int unit_index)
{
    return unit_text(get_unit(p, unit_index));
}

const synth_thread_spec *synth_process_thread(const synth_process *p, size_t index)
{
    if (index >= p->thread_count)
        synth_fail("thread %zu out of range", index);
    return &p->threads[index].spec;
}

const synth_stack *synth_process_stack(const synth_process *p, size_t index)
{
    if (index >= p->thread_count)
        synth_fail("thread %zu out of range", index);
    return &p->threads[index].stack;
}

const synth_stack *synth_process_native_stack(const synth_process *p, size_t index)
{
    if (index >= p->thread_count || !p->o.wow64)
        synth_fail("thread %zu has no native stack", index);
    return &p->threads[index].native_stack;
}
