/*
 * libFuzzer target: the Breakpad .sym provider. The input is opened as .sym
 * text; then every indexed FUNC is looked up at its start, middle and last
 * byte, PUBLICs and a few fixed RVAs are looked up, and the STACK CFI and
 * STACK WIN records found are evaluated with a small register set.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "symbols/sym_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Per-collection work is capped so one input stays fast. */
enum { MAX_PROBES = 512 };

static bool get_register(void *ctx, const char *name, size_t length, uint64_t *value)
{
    (void)ctx;
    *value = length * 0x1000 + (unsigned char)name[0];
    return name[0] != '!';
}

static bool set_register(void *ctx, const char *name, size_t length, uint64_t value)
{
    (void)ctx;
    (void)value;
    return length > 0 && name[0] == '$';
}

static bool read_memory(void *ctx, uint64_t address, uint64_t *value)
{
    (void)ctx;
    *value = address ^ 0x5555;
    return (address & 7) == 0;
}

static const dt_sym_cfi_env ENV = {get_register, read_memory, set_register, NULL, 8};

static void touch_symbol(const dt_symbol *s)
{
    (void)strlen(s->function);
    if (s->file)
        (void)strlen(s->file);
    for (size_t i = 0; i < s->inline_count; i++) {
        (void)strlen(s->inlines[i].function);
        if (s->inlines[i].file)
            (void)strlen(s->inlines[i].file);
    }
}

static void lookup(dt_sym_file *sym, uint64_t rva)
{
    dt_symbol s;
    if (dt_sym_lookup(sym, (uint32_t)rva, &s))
        touch_symbol(&s);
}

static void evaluate_cfi(dt_sym_file *sym, uint64_t rva)
{
    dt_sym_cfi cfi;
    if (!dt_sym_find_cfi(sym, rva, &cfi))
        return;
    for (size_t i = 0; i < cfi.rules_count; i++) {
        const char *text = cfi.rules[i].text;
        const char *end = text + cfi.rules[i].length;
        dt_sym_cfi_rule rule;
        uint64_t value;
        while (dt_sym_cfi_next_rule(&text, end, &rule))
            dt_sym_cfi_evaluate(rule.expr, rule.expr_length, &ENV, &value);
    }
    dt_sym_cfi_rule ra;
    dt_sym_cfi_rule_for(&cfi, ".ra", &ra);
}

static void run_win(const dt_sym_file *sym, uint32_t rva)
{
    dt_sym_win win;
    if (dt_sym_find_win(sym, rva, &win) && win.has_program)
        dt_sym_win_run_program(win.program, win.program_length, &ENV);
}

static void probe_funcs(dt_sym_file *sym)
{
    for (size_t i = 0; i < sym->funcs.count && i < MAX_PROBES; i++) {
        const sym_func *f = (const sym_func *)sym->funcs.items + i;
        uint64_t start = f->address, size = f->size;
        lookup(sym, start);
        lookup(sym, start + size / 2);
        lookup(sym, start + size - 1);
        lookup(sym, start + size);
    }
    for (size_t i = 0; i < sym->publics.count && i < MAX_PROBES; i++)
        lookup(sym, ((const sym_public *)sym->publics.items)[i].address);
    static const uint64_t fixed[] = {0, 1, 0x1000, 0x7fffffff, 0xffffffff};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        lookup(sym, fixed[i]);
}

static void probe_stack(dt_sym_file *sym)
{
    for (size_t i = 0; i < sym->cfi.count && i < MAX_PROBES; i++) {
        const sym_cfi_init *init = (const sym_cfi_init *)sym->cfi.items + i;
        evaluate_cfi(sym, init->address);
        evaluate_cfi(sym, init->address + init->size - 1);
    }
    for (size_t t = 0; t < SYM_WIN_TYPES; t++) {
        for (size_t i = 0; i < sym->win[t].count && i < MAX_PROBES; i++)
            run_win(sym, ((const sym_win *)sym->win[t].items)[i].win.rva);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dt_sym_file *sym;
    dt_error err;
    if (dt_sym_open_bytes(&sym, data, size, "fuzz.sym", 0, &err) != DT_OK)
        return 0;
    dt_sym_module_info info;
    dt_sym_module(sym, &info);
    (void)(strlen(info.debug_id) + strlen(info.code_file));
    probe_funcs(sym);
    probe_stack(sym);
    size_t n;
    const dt_diagnostic *d = dt_sym_diagnostics(sym, &n);
    for (size_t i = 0; i < n; i++)
        (void)(strlen(d[i].message) + strlen(d[i].structure));
    dt_sym_free(sym);
    return 0;
}
