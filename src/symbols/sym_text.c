/* Lines, fields and numbers of .sym text; growable arrays; diagnostics. */
#include "symbols/sym_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/checked.h"

bool sym_next_line(const char *text, size_t size, size_t *pos, sym_line *out)
{
    if (*pos >= size)
        return false;
    const char *start = text + *pos;
    size_t remaining = size - *pos;
    const char *newline = memchr(start, '\n', remaining);
    size_t length = newline ? (size_t)(newline - start) : remaining;
    out->text = start;
    out->offset = *pos;
    out->number++;
    *pos += newline ? length + 1 : length;
    out->end = *pos;
    if (length > 0 && start[length - 1] == '\r')
        length--;
    out->length = length;
    return true;
}

/* Fields are separated by single spaces; runs of spaces are tolerated. */
bool sym_next_field(sym_fields *fields, const char **field, size_t *length)
{
    const char *p = fields->pos;
    while (p < fields->end && *p == ' ')
        p++;
    const char *start = p;
    while (p < fields->end && *p != ' ')
        p++;
    fields->pos = p;
    *field = start;
    *length = (size_t)(p - start);
    return *length > 0;
}

bool sym_rest(sym_fields *fields, const char **rest, size_t *length)
{
    const char *p = fields->pos;
    if (p < fields->end && *p == ' ')
        p++;
    *rest = p;
    *length = (size_t)(fields->end - p);
    fields->pos = fields->end;
    return *length > 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool sym_parse_hex(const char *text, size_t length, uint64_t *out)
{
    if (length == 0)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < length; i++) {
        int digit = hex_value(text[i]);
        if (digit < 0 || value >> 60)
            return false;
        value = value << 4 | (uint64_t)digit;
    }
    *out = value;
    return true;
}

bool sym_parse_decimal(const char *text, size_t length, uint64_t max, uint64_t *out)
{
    if (length == 0)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        if (!dt_mul_u64(value, 10, &value) || !dt_add_u64(value, (uint64_t)(text[i] - '0'), &value))
            return false;
    }
    if (value > max)
        return false;
    *out = value;
    return true;
}

bool sym_next_hex(sym_fields *fields, uint64_t *out)
{
    const char *field;
    size_t length;
    return sym_next_field(fields, &field, &length) && sym_parse_hex(field, length, out);
}

bool sym_next_decimal(sym_fields *fields, uint64_t max, uint64_t *out)
{
    const char *field;
    size_t length;
    return sym_next_field(fields, &field, &length) &&
           sym_parse_decimal(field, length, max, out);
}

void *sym_vec_push(sym_vec *vec, size_t item_size)
{
    if (vec->count == vec->capacity) {
        size_t capacity = vec->capacity ? vec->capacity * 2 : 64;
        size_t bytes;
        if (!dt_mul_size(capacity, item_size, &bytes))
            return NULL;
        void *items = realloc(vec->items, bytes);
        if (!items)
            return NULL;
        vec->items = items;
        vec->capacity = capacity;
    }
    void *item = (char *)vec->items + vec->count * item_size;
    memset(item, 0, item_size);
    vec->count++;
    return item;
}

void sym_vec_free(sym_vec *vec)
{
    free(vec->items);
    vec->items = NULL;
    vec->count = vec->capacity = 0;
}

void sym_diag(dt_sym_file *sym, dt_diag_level level, const sym_line *line, const char *record,
              const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    char structure[64];
    snprintf(structure, sizeof structure, "%s record at line %llu", record,
             (unsigned long long)line->number);
    dt_diag_add(&sym->diags, &sym->arena, level, structure, (int64_t)line->offset,
                "%s: line %llu (offset 0x%llx): %s record: %s", sym->label,
                (unsigned long long)line->number, (unsigned long long)line->offset, record,
                reason);
}

static bool looks_itanium_mangled(const char *text, size_t length)
{
    return (length > 2 && text[0] == '_' && text[1] == 'Z') ||
           (length > 3 && text[0] == '_' && text[1] == '_' && text[2] == 'Z');
}

/* Room for a demangled name; a longer one is truncated. */
enum { DEMANGLED_MAX = 8192 };

const char *sym_copy_name(dt_sym_file *sym, const char *text, size_t length,
                          const sym_line *line, const char *record)
{
    const char *nul = memchr(text, '\0', length);
    if (nul) {
        sym_diag(sym, DT_DIAG_WARNING, line, record, "name contains a NUL byte; truncated");
        length = (size_t)(nul - text);
    }
    char *copy = dt_arena_strndup(&sym->arena, text, length);
    if (!copy || !looks_itanium_mangled(copy, length))
        return copy;
    char demangled[DEMANGLED_MAX];
    if (!dt_demangle_itanium(copy, demangled, sizeof demangled))
        return copy;
    const char *result = dt_arena_strndup(&sym->arena, demangled, strlen(demangled));
    return result ? result : copy;
}
