/*
 * The postfix language of STACK CFI rules and STACK WIN programs: one
 * left-to-right pass over space-separated tokens with a fixed-size operand
 * stack. Register names stay names on the stack until an operator needs
 * their value, so `=` can assign to them.
 */
#include "symbols/sym_internal.h"

typedef struct operand {
    bool is_name;
    const char *name;
    size_t name_length;
    uint64_t value;
} operand;

typedef struct machine {
    const dt_sym_cfi_env *env;
    operand stack[DT_SYM_CFI_STACK_MAX];
    size_t depth;
} machine;

const char *dt_sym_cfi_eval_name(dt_sym_cfi_eval result)
{
    switch (result) {
    case DT_CFI_EVAL_OK: return "ok";
    case DT_CFI_EVAL_BAD_TOKEN: return "bad token";
    case DT_CFI_EVAL_STACK_UNDERFLOW: return "stack underflow";
    case DT_CFI_EVAL_STACK_OVERFLOW: return "stack overflow";
    case DT_CFI_EVAL_DIVIDE_BY_ZERO: return "division by zero";
    case DT_CFI_EVAL_BAD_ALIGNMENT: return "bad alignment";
    case DT_CFI_EVAL_UNKNOWN_REGISTER: return "unknown register";
    case DT_CFI_EVAL_MEMORY: return "memory not readable";
    case DT_CFI_EVAL_ASSIGNMENT: return "assignment refused";
    case DT_CFI_EVAL_RESULT: return "wrong number of results";
    }
    return "unknown result";
}

static uint64_t wrap(const machine *m, uint64_t value)
{
    return m->env->address_size == 4 ? (uint32_t)value : value;
}

static dt_sym_cfi_eval push(machine *m, operand item)
{
    if (m->depth == DT_SYM_CFI_STACK_MAX)
        return DT_CFI_EVAL_STACK_OVERFLOW;
    m->stack[m->depth++] = item;
    return DT_CFI_EVAL_OK;
}

static dt_sym_cfi_eval push_value(machine *m, uint64_t value)
{
    return push(m, (operand){.value = wrap(m, value)});
}

/* Pops an operand and turns a register name into its value. */
static dt_sym_cfi_eval pop_value(machine *m, uint64_t *out)
{
    if (m->depth == 0)
        return DT_CFI_EVAL_STACK_UNDERFLOW;
    const operand *top = &m->stack[--m->depth];
    if (!top->is_name) {
        *out = top->value;
        return DT_CFI_EVAL_OK;
    }
    if (!m->env->get_register ||
        !m->env->get_register(m->env->ctx, top->name, top->name_length, out))
        return DT_CFI_EVAL_UNKNOWN_REGISTER;
    *out = wrap(m, *out);
    return DT_CFI_EVAL_OK;
}

static bool is_power_of_two(uint64_t value)
{
    return value != 0 && (value & (value - 1)) == 0;
}

/* a b OP -> a OP b for + - * / % and @ (a aligned down to b). */
static dt_sym_cfi_eval apply_binary(machine *m, char op)
{
    uint64_t a, b;
    dt_sym_cfi_eval r = pop_value(m, &b);
    if (r == DT_CFI_EVAL_OK)
        r = pop_value(m, &a);
    if (r != DT_CFI_EVAL_OK)
        return r;
    switch (op) {
    case '+': return push_value(m, a + b);
    case '-': return push_value(m, a - b);
    case '*': return push_value(m, a * b);
    case '/': return b ? push_value(m, a / b) : DT_CFI_EVAL_DIVIDE_BY_ZERO;
    case '%': return b ? push_value(m, a % b) : DT_CFI_EVAL_DIVIDE_BY_ZERO;
    default: return is_power_of_two(b) ? push_value(m, a & ~(b - 1)) : DT_CFI_EVAL_BAD_ALIGNMENT;
    }
}

/* a ^ -> the address-sized value at a. */
static dt_sym_cfi_eval apply_dereference(machine *m)
{
    uint64_t address, value;
    dt_sym_cfi_eval r = pop_value(m, &address);
    if (r != DT_CFI_EVAL_OK)
        return r;
    if (!m->env->read_memory || !m->env->read_memory(m->env->ctx, address, &value))
        return DT_CFI_EVAL_MEMORY;
    return push_value(m, value);
}

/* name value = -> name := value, nothing pushed. */
static dt_sym_cfi_eval apply_assignment(machine *m)
{
    uint64_t value;
    dt_sym_cfi_eval r = pop_value(m, &value);
    if (r != DT_CFI_EVAL_OK)
        return r;
    if (m->depth == 0)
        return DT_CFI_EVAL_STACK_UNDERFLOW;
    const operand *target = &m->stack[--m->depth];
    if (!target->is_name || !m->env->set_register ||
        !m->env->set_register(m->env->ctx, target->name, target->name_length, value))
        return DT_CFI_EVAL_ASSIGNMENT;
    return DT_CFI_EVAL_OK;
}

/* Decimal, with an optional leading '-' (wraps to unsigned). */
static bool parse_number(const char *token, size_t length, uint64_t *out)
{
    bool negative = token[0] == '-';
    if (negative && length == 1)
        return false;
    size_t skip = negative ? 1 : 0;
    if (!sym_parse_decimal(token + skip, length - skip, UINT64_MAX, out))
        return false;
    if (negative)
        *out = 0 - *out;
    return true;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c == '.';
}

/* "$rsp", ".cfa", "$T0", ".raSearch", "sp", "x29": starts with '$', '.' or a
 * letter and holds only letters, digits, '_', '$' and '.'. */
static bool is_register_name(const char *token, size_t length)
{
    char first = token[0];
    if (!(first == '$' || first == '.' || (first >= 'a' && first <= 'z') ||
          (first >= 'A' && first <= 'Z')))
        return false;
    for (size_t i = 0; i < length; i++)
        if (!is_name_char(token[i]))
            return false;
    return true;
}

static dt_sym_cfi_eval step(machine *m, const char *token, size_t length)
{
    if (length == 1 && memchr("+-*/%@", token[0], 6))
        return apply_binary(m, token[0]);
    if (length == 1 && token[0] == '^')
        return apply_dereference(m);
    if (length == 1 && token[0] == '=')
        return apply_assignment(m);
    uint64_t number;
    if ((token[0] == '-' || (token[0] >= '0' && token[0] <= '9')))
        return parse_number(token, length, &number) ? push_value(m, number)
                                                    : DT_CFI_EVAL_BAD_TOKEN;
    if (!is_register_name(token, length))
        return DT_CFI_EVAL_BAD_TOKEN;
    return push(m, (operand){.is_name = true, .name = token, .name_length = length});
}

static dt_sym_cfi_eval run(machine *m, const char *text, size_t length)
{
    sym_fields fields = {text, text + length};
    const char *token;
    size_t token_length;
    size_t tokens = 0;
    while (sym_next_field(&fields, &token, &token_length)) {
        if (++tokens > DT_SYM_CFI_TOKEN_MAX)
            return DT_CFI_EVAL_BAD_TOKEN;
        dt_sym_cfi_eval r = step(m, token, token_length);
        if (r != DT_CFI_EVAL_OK)
            return r;
    }
    return DT_CFI_EVAL_OK;
}

dt_sym_cfi_eval dt_sym_cfi_evaluate(const char *expr, size_t length, const dt_sym_cfi_env *env,
                                    uint64_t *out)
{
    machine m = {.env = env};
    dt_sym_cfi_eval r = run(&m, expr, length);
    if (r != DT_CFI_EVAL_OK)
        return r;
    if (m.depth != 1)
        return DT_CFI_EVAL_RESULT;
    return pop_value(&m, out);
}

dt_sym_cfi_eval dt_sym_win_run_program(const char *program, size_t length,
                                       const dt_sym_cfi_env *env)
{
    machine m = {.env = env};
    dt_sym_cfi_eval r = run(&m, program, length);
    if (r == DT_CFI_EVAL_OK && m.depth != 0)
        return DT_CFI_EVAL_RESULT;
    return r;
}
