/* synth_text: functions placed at an address, calls linked through thunks. */
#include "synth_text.h"

#include <stdlib.h>
#include <string.h>

enum { FUNCTION_ALIGN = 16, THUNK_SIZE = 8, CALL_SIZE = 5 };

typedef struct call_site {
    int function;
    uint32_t return_offset;
    synth_target target;
    bool indirect;       /* reached from several callees: call rax */
} call_site;

typedef struct text_function {
    synth_function f;
    synth_op *ops;
    char *name;
    char *export_name;
    synth_code code;
    uint32_t start;      /* offset from the text address */
} text_function;

struct synth_text {
    synth_cpu cpu;
    text_function *functions;
    size_t function_count;
    call_site *calls;
    size_t call_count;
    synth_target *thunks;
    size_t thunk_count;
    uint32_t thunks_start;
    uint64_t address;
    uint32_t size;
    bool laid_out;
};

synth_text *synth_text_new(synth_cpu cpu)
{
    synth_text *t = synth_alloc(sizeof *t);
    t->cpu = cpu;
    return t;
}

uint32_t synth_text_slot_size(const synth_text *t)
{
    return t->cpu == SYNTH_CPU_X86 ? 4 : 8;
}

void synth_text_free(synth_text *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->function_count; i++) {
        free(t->functions[i].ops);
        free(t->functions[i].name);
        free(t->functions[i].export_name);
        synth_code_free(&t->functions[i].code);
    }
    free(t->functions);
    free(t->calls);
    free(t->thunks);
    free(t);
}

static void require_layout(const synth_text *t, bool laid_out)
{
    if (t->laid_out != laid_out)
        synth_fail(laid_out ? "synth_text used before synth_text_layout"
                            : "synth_text changed after synth_text_layout");
}

static void check_index(const synth_text *t, int function)
{
    if (function < 0 || (size_t)function >= t->function_count)
        synth_fail("function index %d out of range (%zu functions)", function, t->function_count);
}

int synth_text_add_function(synth_text *t, const synth_function *f)
{
    require_layout(t, false);
    if (!f->name)
        synth_fail("a function needs a name");
    if (f->fragment != SYNTH_PRIMARY)
        check_index(t, f->parent);
    text_function tf = {*f, NULL, synth_strdup(f->name),
                        f->export_name ? synth_strdup(f->export_name) : NULL, {0}, 0};
    tf.ops = synth_alloc((f->op_count ? f->op_count : 1) * sizeof *tf.ops);
    if (f->op_count)
        memcpy(tf.ops, f->ops, f->op_count * sizeof *tf.ops);
    tf.f.name = tf.name; /* the description points at the owned copies */
    tf.f.export_name = tf.export_name;
    tf.f.ops = tf.ops;
    t->functions = synth_grow(t->functions, t->function_count + 1, sizeof *t->functions);
    t->functions[t->function_count] = tf;
    return (int)t->function_count++;
}

static bool same_target(synth_target a, synth_target b)
{
    return a.text == b.text && (a.text ? a.function == b.function : a.address == b.address);
}

/* Calls into another run reach exported functions through an import thunk;
 * others are virtual or function-pointer calls, made indirectly. */
static bool needs_indirect_call(const synth_text *t, synth_target target)
{
    return target.text && target.text != t &&
           !synth_text_function(target.text, target.function)->export_name;
}

void synth_text_add_call(synth_text *t, int function, uint32_t return_offset, synth_target target)
{
    require_layout(t, false);
    check_index(t, function);
    bool indirect = needs_indirect_call(t, target);
    for (size_t i = 0; i < t->call_count; i++) {
        call_site *c = &t->calls[i];
        if (c->function == function && c->return_offset == return_offset) {
            c->indirect |= indirect || !same_target(c->target, target);
            return;
        }
    }
    t->calls = synth_grow(t->calls, t->call_count + 1, sizeof *t->calls);
    t->calls[t->call_count++] = (call_site){function, return_offset, target, indirect};
}

size_t synth_text_function_count(const synth_text *t)
{
    return t->function_count;
}

const synth_function *synth_text_function(const synth_text *t, int function)
{
    check_index(t, function);
    return &t->functions[function].f;
}

int synth_text_find(const synth_text *t, const char *name)
{
    for (size_t i = 0; i < t->function_count; i++)
        if (strcmp(t->functions[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool synth_text_call_target(const synth_text *t, int function, uint32_t return_offset,
                            synth_target *target, bool *indirect)
{
    for (size_t i = 0; i < t->call_count; i++)
        if (t->calls[i].function == function && t->calls[i].return_offset == return_offset) {
            *target = t->calls[i].target;
            *indirect = t->calls[i].indirect;
            return true;
        }
    return false;
}

int synth_text_primary(const synth_text *t, int function)
{
    check_index(t, function);
    return t->functions[function].f.fragment == SYNTH_PRIMARY ? function
                                                              : t->functions[function].f.parent;
}

static void generate_function(synth_text *t, size_t index)
{
    text_function *tf = &t->functions[index];
    synth_call *calls = synth_alloc((t->call_count + 1) * sizeof *calls);
    size_t n = 0;
    for (size_t i = 0; i < t->call_count; i++)
        if (t->calls[i].function == (int)index)
            calls[n++] = (synth_call){t->calls[i].return_offset, t->calls[i].indirect};
    const synth_function *parent =
        tf->f.fragment != SYNTH_PRIMARY ? &t->functions[tf->f.parent].f : NULL;
    if (t->cpu == SYNTH_CPU_X86)
        synth_code_generate_x86(&tf->f, calls, n, &tf->code);
    else
        synth_code_generate(&tf->f, parent, calls, n, &tf->code);
    free(calls);
}

static bool leaves_text(const synth_text *t, synth_target target)
{
    return target.text != t;
}

static void collect_thunks(synth_text *t)
{
    for (size_t i = 0; i < t->call_count; i++) {
        synth_target target = t->calls[i].target;
        bool known = t->calls[i].indirect || !leaves_text(t, target);
        for (size_t k = 0; k < t->thunk_count && !known; k++)
            known = same_target(t->thunks[k], target);
        if (known)
            continue;
        t->thunks = synth_grow(t->thunks, t->thunk_count + 1, sizeof *t->thunks);
        t->thunks[t->thunk_count++] = target;
    }
}

uint32_t synth_text_layout(synth_text *t, uint64_t address)
{
    require_layout(t, false);
    uint32_t offset = 0;
    for (size_t i = 0; i < t->function_count; i++) {
        generate_function(t, i);
        offset = (offset + FUNCTION_ALIGN - 1) & ~(uint32_t)(FUNCTION_ALIGN - 1);
        t->functions[i].start = offset;
        offset += t->functions[i].code.size;
    }
    collect_thunks(t);
    t->thunks_start = (offset + THUNK_SIZE - 1) & ~(uint32_t)(THUNK_SIZE - 1);
    t->size = t->thunks_start + (uint32_t)t->thunk_count * THUNK_SIZE;
    t->address = address;
    t->laid_out = true;
    return t->size;
}

uint32_t synth_text_size(const synth_text *t)
{
    require_layout(t, true);
    return t->size;
}

uint64_t synth_text_function_address(const synth_text *t, int function)
{
    require_layout(t, true);
    check_index(t, function);
    return t->address + t->functions[function].start;
}

const synth_code *synth_text_code(const synth_text *t, int function)
{
    require_layout(t, true);
    check_index(t, function);
    return &t->functions[function].code;
}

size_t synth_text_thunk_count(const synth_text *t)
{
    require_layout(t, true);
    return t->thunk_count;
}

synth_target synth_text_thunk_target(const synth_text *t, size_t thunk)
{
    require_layout(t, true);
    return t->thunks[thunk];
}

uint64_t synth_text_thunk_address(const synth_text *t, size_t thunk)
{
    require_layout(t, true);
    return t->address + t->thunks_start + thunk * THUNK_SIZE;
}

uint64_t synth_target_address(synth_target target)
{
    return target.text ? synth_text_function_address(target.text, target.function)
                       : target.address;
}

/* Where a call to `target` lands: the function itself, or its thunk. */
static uint64_t call_destination(const synth_text *t, synth_target target)
{
    if (!leaves_text(t, target))
        return synth_text_function_address(t, target.function);
    for (size_t k = 0; k < t->thunk_count; k++)
        if (same_target(t->thunks[k], target))
            return synth_text_thunk_address(t, k);
    synth_fail("no thunk for a call target");
}

/* E8 rel32: the displacement is relative to the end of the instruction. */
static void link_call(const synth_text *t, const call_site *c, uint8_t *out)
{
    const text_function *tf = &t->functions[c->function];
    long at = synth_code_call_at(&tf->code, c->return_offset);
    if (at < 0)
        synth_fail("%s has no call site returning at 0x%x", tf->name, c->return_offset);
    uint64_t next = t->address + tf->start + c->return_offset;
    int64_t rel = (int64_t)(call_destination(t, c->target) - next);
    if (rel < INT32_MIN || rel > INT32_MAX)
        synth_fail("call from %s+0x%x is out of rel32 range", tf->name, c->return_offset);
    synth_put_u32(out + tf->start + (uint32_t)at + 1, (uint32_t)(int32_t)rel);
}

/* Thunk: FF 25 disp32, jmp qword ptr [rip + disp32] on x64 and jmp dword
 * ptr [abs32] on x86, then int3 padding. */
static void emit_thunk(const synth_text *t, size_t k, uint64_t slot, uint8_t *out)
{
    uint8_t *p = out + t->thunks_start + k * THUNK_SIZE;
    int64_t operand = (int64_t)slot;
    if (t->cpu == SYNTH_CPU_AMD64)
        operand = (int64_t)(slot - (synth_text_thunk_address(t, k) + 6));
    else if (slot > UINT32_MAX)
        synth_fail("x86 thunk slot above 4 GiB");
    if (t->cpu == SYNTH_CPU_AMD64 && (operand < INT32_MIN || operand > INT32_MAX))
        synth_fail("thunk slot is out of rel32 range");
    p[0] = 0xFF;
    p[1] = 0x25;
    synth_put_u32(p + 2, (uint32_t)operand);
    p[6] = p[7] = 0xCC;
}

void synth_text_emit(const synth_text *t, uint64_t slots_address, uint8_t *out)
{
    require_layout(t, true);
    memset(out, 0xCC, t->size);
    for (size_t i = 0; i < t->function_count; i++)
        memcpy(out + t->functions[i].start, t->functions[i].code.bytes, t->functions[i].code.size);
    for (size_t i = 0; i < t->call_count; i++)
        if (!t->calls[i].indirect)
            link_call(t, &t->calls[i], out);
    for (size_t k = 0; k < t->thunk_count; k++)
        emit_thunk(t, k, slots_address + synth_text_slot_size(t) * k, out);
}

void synth_text_emit_slots(const synth_text *t, uint8_t *out)
{
    require_layout(t, true);
    for (size_t k = 0; k < t->thunk_count; k++) {
        uint64_t target = synth_target_address(t->thunks[k]);
        if (t->cpu == SYNTH_CPU_X86)
            synth_put_u32(out + 4 * k, (uint32_t)target);
        else
            synth_put_u64(out + 8 * k, target);
    }
}
