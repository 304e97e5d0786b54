/* STACK WIN and STACK CFI records: indexing, lookup, rule splitting. */
#include "symbols/sym_internal.h"

#include <stdlib.h>

#include "base/checked.h"

/* ---- STACK WIN --------------------------------------------------------- */

/* The eight hex fields after type and rva, all 32-bit. */
static bool parse_win_sizes(sym_fields *f, dt_sym_win *win)
{
    uint32_t *fields[] = {&win->code_size, &win->prolog_size, &win->epilog_size,
                          &win->parameter_size, &win->saved_regs_size, &win->locals_size,
                          &win->max_stack_size};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t value;
        if (!sym_next_hex(f, &value) || value > UINT32_MAX)
            return false;
        *fields[i] = (uint32_t)value;
    }
    return true;
}

/* The last two fields: has_program_string, then the program string (rest
 * of the line) or allocates_base_pointer. */
static bool parse_win_program(sym_fields *f, dt_sym_win *win)
{
    uint64_t has_program, allocates_base_pointer;
    if (!sym_next_hex(f, &has_program) || has_program > 1)
        return false;
    win->has_program = has_program == 1;
    if (win->has_program)
        return sym_rest(f, &win->program, &win->program_length);
    if (!sym_next_hex(f, &allocates_base_pointer) || allocates_base_pointer > 1)
        return false;
    win->allocates_base_pointer = allocates_base_pointer == 1;
    return true;
}

/* STACK WIN type rva code_size prolog_size epilog_size parameter_size
 *           saved_register_size local_size max_stack_size has_program_string
 *           program_string | allocates_base_pointer      (all hex) */
void sym_index_stack_win(dt_sym_file *sym, const sym_line *line, sym_fields *fields)
{
    uint64_t type, rva;
    dt_sym_win win = {0};
    if (!sym_next_hex(fields, &type) || !sym_next_hex(fields, &rva) || rva > UINT32_MAX ||
        !parse_win_sizes(fields, &win) || !parse_win_program(fields, &win)) {
        sym_diag(sym, DT_DIAG_ERROR, line, "STACK WIN",
                 "missing field, field not hexadecimal or over 32 bits, or flag not 0/1");
        return;
    }
    if (type >= SYM_WIN_TYPES) {
        sym_diag(sym, DT_DIAG_ERROR, line, "STACK WIN", "unknown frame type %llu",
                 (unsigned long long)type);
        return;
    }
    win.type = (dt_sym_win_type)type;
    win.rva = (uint32_t)rva;
    sym_win *slot = sym_vec_push(&sym->win[type], sizeof *slot);
    if (!slot) {
        sym_diag(sym, DT_DIAG_ERROR, line, "STACK WIN", "out of memory; record dropped");
        return;
    }
    *slot = (sym_win){win, line->offset};
}

bool dt_sym_find_win(const dt_sym_file *sym, uint32_t rva, dt_sym_win *out)
{
    static const dt_sym_win_type preference[] = {DT_SYM_WIN_FRAME_DATA, DT_SYM_WIN_FPO,
                                                 DT_SYM_WIN_STANDARD, DT_SYM_WIN_TRAP,
                                                 DT_SYM_WIN_TSS};
    for (size_t t = 0; t < sizeof preference / sizeof preference[0]; t++) {
        const sym_vec *records = &sym->win[preference[t]];
        size_t i = sym_floor_win(records, rva);
        if (i == records->count)
            continue;
        const dt_sym_win *win = &((const sym_win *)records->items + i)->win;
        if (sym_covers(win->rva, win->code_size, rva)) {
            *out = *win;
            return true;
        }
    }
    return false;
}

/* ---- STACK CFI --------------------------------------------------------- */

static bool add_cfi_rules(dt_sym_file *sym, size_t count, uint64_t rva, const char *text,
                          size_t length)
{
    if (count == sym->cfi_rules_capacity) {
        size_t capacity = count ? count * 2 : 16;
        size_t bytes;
        if (!dt_mul_size(capacity, sizeof *sym->cfi_rules, &bytes))
            return false;
        dt_sym_cfi_rules *rules = realloc(sym->cfi_rules, bytes);
        if (!rules)
            return false;
        sym->cfi_rules = rules;
        sym->cfi_rules_capacity = capacity;
    }
    sym->cfi_rules[count] = (dt_sym_cfi_rules){rva, text, length};
    return true;
}

/* STACK CFI address rules: one delta after an INIT record. Returns false
 * when the record is malformed (with a diagnostic). */
static bool parse_cfi_delta(dt_sym_file *sym, const sym_line *line, const sym_cfi_init *init,
                            uint64_t *address, const char **rules, size_t *rules_length)
{
    sym_fields f = {line->text + 10, line->text + line->length};
    if (!sym_starts_with(line, "STACK CFI ", 10) || !sym_next_hex(&f, address) ||
        !sym_rest(&f, rules, rules_length)) {
        sym_diag(sym, DT_DIAG_ERROR, line, "STACK CFI", "bad address or no rules");
        return false;
    }
    if (!sym_covers(init->address, init->size, *address)) {
        sym_diag(sym, DT_DIAG_ERROR, line, "STACK CFI",
                 "address outside its STACK CFI INIT record's range");
        return false;
    }
    return true;
}

/* Appends the deltas at or below `rva` after the INIT rules in slot 0.
 * At most DT_SYM_MAX_CFI_DELTAS delta lines are read per call. */
static size_t collect_cfi_deltas(dt_sym_file *sym, const sym_cfi_init *init, uint64_t rva)
{
    size_t count = 1, read = 0;
    size_t pos = (size_t)init->deltas_begin;
    sym_line line = {.number = init->line_number};
    while (sym_next_line(sym->text, (size_t)init->deltas_end, &pos, &line)) {
        if (++read > DT_SYM_MAX_CFI_DELTAS) {
            sym_diag(sym, DT_DIAG_ERROR, &line, "STACK CFI",
                     "more than %d delta records; the rest are ignored", DT_SYM_MAX_CFI_DELTAS);
            break;
        }
        uint64_t address;
        const char *rules;
        size_t length;
        if (line.length == 0 || line.length > DT_SYM_MAX_LINE ||
            !parse_cfi_delta(sym, &line, init, &address, &rules, &length) || address > rva)
            continue;
        if (!add_cfi_rules(sym, count, address, rules, length))
            break;
        count++;
    }
    return count;
}

bool dt_sym_find_cfi(dt_sym_file *sym, uint64_t rva, dt_sym_cfi *out)
{
    memset(out, 0, sizeof *out);
    size_t i = sym_floor_cfi(sym, rva);
    if (i == sym->cfi.count)
        return false;
    const sym_cfi_init *init = (const sym_cfi_init *)sym->cfi.items + i;
    if (!sym_covers(init->address, init->size, rva) ||
        !add_cfi_rules(sym, 0, init->address, init->rules, init->rules_length))
        return false;
    out->init_rva = init->address;
    out->init_size = init->size;
    out->rules_count = collect_cfi_deltas(sym, init, rva);
    out->rules = sym->cfi_rules;
    return true;
}

/* ---- Rules ------------------------------------------------------------- */

static const char *skip_spaces(const char *p, const char *end)
{
    while (p < end && *p == ' ')
        p++;
    return p;
}

static const char *token_end(const char *p, const char *end)
{
    while (p < end && *p != ' ')
        p++;
    return p;
}

/* A rules string is a sequence of "NAME: expression" where NAME is a token
 * ending in ':' and the expression runs up to the next such token. */
bool dt_sym_cfi_next_rule(const char **text, const char *end, dt_sym_cfi_rule *out)
{
    const char *name = skip_spaces(*text, end);
    const char *name_end = token_end(name, end);
    if (name == end || name_end - name < 2 || name_end[-1] != ':') {
        *text = end;
        return false;
    }
    const char *expr = skip_spaces(name_end, end);
    const char *p = expr, *expr_end = expr;
    while (p < end) {
        const char *tok_end = token_end(p, end);
        if (tok_end[-1] == ':')
            break;
        expr_end = tok_end;
        p = skip_spaces(tok_end, end);
    }
    *text = p;
    if (expr_end == expr) {
        *text = end;
        return false;
    }
    *out = (dt_sym_cfi_rule){name, (size_t)(name_end - 1 - name), expr,
                             (size_t)(expr_end - expr)};
    return true;
}

bool dt_sym_cfi_rule_for(const dt_sym_cfi *cfi, const char *reg, dt_sym_cfi_rule *out)
{
    size_t reg_length = strlen(reg);
    bool found = false;
    for (size_t i = 0; i < cfi->rules_count; i++) {
        const char *text = cfi->rules[i].text;
        const char *end = text + cfi->rules[i].length;
        dt_sym_cfi_rule rule;
        while (dt_sym_cfi_next_rule(&text, end, &rule)) {
            if (rule.reg_length == reg_length && memcmp(rule.reg, reg, reg_length) == 0) {
                *out = rule;
                found = true;
            }
        }
    }
    return found;
}
