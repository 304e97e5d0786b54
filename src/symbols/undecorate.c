/*
 * MSVC name undecoration, reduced to what a stack trace shows: the scope
 * chain and the name ("ns::Class<int>::method"), as WinDbg prints it,
 * without return type, calling convention or parameters.
 *
 * Grammar: a decorated name is '?' then the unqualified name, then scope
 * fragments innermost first up to '@', then the type encoding. Fragments
 * are '@'-terminated identifiers, back-references '0'..'9' to the first
 * ten identifiers seen, "?$" template instantiations (whose arguments are
 * types and constants) and special names. Type encodings are decoded only
 * where a name depends on them: template arguments, the type of a
 * conversion operator, and functions that scope a local name.
 *
 * Safety: every read goes through peek/take, which check the end of the
 * input; recursion is bounded by MAX_DEPTH; output goes to a fixed pool.
 * Any construct outside the supported subset makes the call fail, and the
 * caller copies the input instead (docs/pdb.md lists the gaps).
 */
#include "dumptriage/symbols.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { MAX_DEPTH = 24, MAX_BACKREFS = 10, MAX_SCOPES = 64, POOL_SIZE = 32768, MAX_INPUT = 4096 };

typedef struct backrefs {
    const char *names[MAX_BACKREFS];
    size_t name_count;
    const char *types[MAX_BACKREFS];
    size_t type_count;
} backrefs;

typedef struct undecorator {
    const char *s;
    size_t len, pos;
    int depth;
    bool failed;
    backrefs refs;
    char pool[POOL_SIZE];
    size_t pool_used;
    /* The last function pointer type built, and where in it a further
     * pointer's '*' goes: "void (__cdecl *<here>)(void)". */
    const char *function_pointer;
    size_t function_pointer_split;
} undecorator;

/* ---- Input and output primitives ---- */

static bool fail(undecorator *u)
{
    u->failed = true;
    return false;
}

static char peek(const undecorator *u)
{
    return u->pos < u->len ? u->s[u->pos] : '\0';
}

static bool at(const undecorator *u, const char *prefix)
{
    size_t n = strlen(prefix);
    return u->len - u->pos >= n && memcmp(u->s + u->pos, prefix, n) == 0;
}

static bool take(undecorator *u, const char *prefix)
{
    if (!at(u, prefix))
        return false;
    u->pos += strlen(prefix);
    return true;
}

static char next(undecorator *u)
{
    if (u->pos >= u->len) {
        fail(u);
        return '\0';
    }
    return u->s[u->pos++];
}

/* A formatted string in the pool; NULL (and failure) when the pool is full. */
__attribute__((format(printf, 2, 3))) static const char *fmt(undecorator *u, const char *f, ...)
{
    if (u->failed)
        return NULL;
    size_t room = POOL_SIZE - u->pool_used;
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(u->pool + u->pool_used, room, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        fail(u);
        return NULL;
    }
    const char *s = u->pool + u->pool_used;
    u->pool_used += (size_t)n + 1;
    return s;
}

static bool enter(undecorator *u)
{
    if (++u->depth > MAX_DEPTH)
        return fail(u);
    return !u->failed;
}

static void leave(undecorator *u)
{
    u->depth--;
}

/* Remembers an identifier for back-references '0'..'9' (no duplicates);
 * NULL (a failed parse) is ignored. */
static void remember_name(undecorator *u, const char *name)
{
    backrefs *r = &u->refs;
    if (!name)
        return;
    for (size_t i = 0; i < r->name_count; i++)
        if (strcmp(r->names[i], name) == 0)
            return;
    if (r->name_count < MAX_BACKREFS)
        r->names[r->name_count++] = name;
}

/* ---- Numbers and identifiers ---- */

/* Encoded number: optional '?' (negative), then '0'..'9' for 1..10, or
 * hex digits 'A'..'P' terminated by '@'. */
static bool encoded_number(undecorator *u, long long *out)
{
    bool negative = take(u, "?");
    unsigned long long value = 0;
    char c = peek(u);
    if (c >= '0' && c <= '9') {
        u->pos++;
        value = (unsigned long long)(c - '0') + 1;
    } else {
        int digits = 0;
        while ((c = next(u)) != '@') {
            if (c < 'A' || c > 'P' || ++digits > 16)
                return fail(u);
            value = value * 16 + (unsigned long long)(c - 'A');
        }
    }
    *out = negative ? -(long long)value : (long long)value;
    return true;
}

/* An identifier up to '@'. */
static const char *simple_name(undecorator *u)
{
    size_t start = u->pos;
    while (u->pos < u->len && u->s[u->pos] != '@')
        u->pos++;
    if (u->pos >= u->len || u->pos == start) {
        fail(u);
        return NULL;
    }
    u->pos++;
    return fmt(u, "%.*s", (int)(u->pos - 1 - start), u->s + start);
}

static const char *name_backref(undecorator *u)
{
    size_t i = (size_t)(next(u) - '0');
    if (i >= u->refs.name_count) {
        fail(u);
        return NULL;
    }
    return u->refs.names[i];
}

/* ---- Types (for template arguments and conversion operators) ---- */

static const char *type(undecorator *u);
static const char *qualified_name(undecorator *u);
static const char *template_name(undecorator *u);
static bool skip_symbol_encoding(undecorator *u, const char **return_type);
static const char *decorated_symbol(undecorator *u, bool nested, bool *extern_c);

static const char *primitive(char c)
{
    switch (c) {
    case 'C': return "signed char";
    case 'D': return "char";
    case 'E': return "unsigned char";
    case 'F': return "short";
    case 'G': return "unsigned short";
    case 'H': return "int";
    case 'I': return "unsigned int";
    case 'J': return "long";
    case 'K': return "unsigned long";
    case 'M': return "float";
    case 'N': return "double";
    case 'O': return "long double";
    case 'X': return "void";
    default: return NULL;
    }
}

static const char *extended_primitive(char c)
{
    switch (c) {
    case 'N': return "bool";
    case 'J': return "__int64";
    case 'K': return "unsigned __int64";
    case 'W': return "wchar_t";
    case 'S': return "char16_t";
    case 'U': return "char32_t";
    case 'Q': return "char8_t";
    default: return NULL;
    }
}

static const char *calling_convention(char c)
{
    switch (c) {
    case 'A': case 'B': return "__cdecl";
    case 'C': case 'D': return "__pascal";
    case 'E': case 'F': return "__thiscall";
    case 'G': case 'H': return "__stdcall";
    case 'I': case 'J': return "__fastcall";
    case 'M': case 'N': return "__clrcall";
    case 'Q': return "__vectorcall";
    default: return NULL;
    }
}

/* Tag type: 'T' union, 'U' struct, 'V' class, "W4" enum, then a qualified
 * name. */
static const char *tag_type(undecorator *u, char tag)
{
    const char *keyword = tag == 'T' ? "union" : tag == 'U' ? "struct" : tag == 'V' ? "class"
                                                                                   : "enum";
    if (tag == 'W' && next(u) != '4')
        return fail(u), NULL;
    const char *name = qualified_name(u);
    return name ? fmt(u, "%s %s", keyword, name) : NULL;
}

/* Function parameter list: types up to '@' (or "X" alone for none, "Z"
 * for varargs); types longer than one character are remembered. */
static const char *parameter_list(undecorator *u)
{
    if (take(u, "X"))
        return "void";
    const char *list = "";
    while (!u->failed && !take(u, "@")) {
        if (take(u, "Z"))
            return fmt(u, "%s%s...", list, *list ? ", " : "");
        size_t start = u->pos;
        const char *t = type(u);
        if (!t)
            return NULL;
        if (u->pos - start > 1 && u->refs.type_count < MAX_BACKREFS)
            u->refs.types[u->refs.type_count++] = t;
        list = fmt(u, "%s%s%s", list, *list ? ", " : "", t);
    }
    return u->failed ? NULL : list;
}

/* Function type after the calling convention: return type ('@' = none,
 * '?' + cv prefix for class returns), parameters, throw spec 'Z'. */
static bool function_type(undecorator *u, const char **ret, const char **params)
{
    *ret = "";
    if (!take(u, "@")) {
        if (take(u, "?"))
            next(u);
        *ret = type(u);
    }
    *params = *ret ? parameter_list(u) : NULL;
    if (!*params || !take(u, "Z"))
        return fail(u);
    return true;
}

/* "6" + calling convention + function type: a pointer to function. */
static const char *function_pointer(undecorator *u, const char *star)
{
    const char *cc = calling_convention(next(u));
    const char *ret, *params;
    if (!cc || !function_type(u, &ret, &params))
        return fail(u), NULL;
    const char *t = fmt(u, "%s (%s %s)(%s)", ret, cc, star, params);
    u->function_pointer = t;
    u->function_pointer_split = strlen(ret) + 2 + strlen(cc) + 1 + strlen(star);
    return t;
}

/* A pointer to a function pointer: the new '*' goes inside the
 * parentheses, "void (__cdecl **)(void)". */
static const char *pointer_to_function_pointer(undecorator *u, const char *pointee,
                                               const char *star, const char *self_cv)
{
    size_t split = u->function_pointer_split;
    const char *t = fmt(u, "%.*s%s%s%s", (int)split, pointee, star, self_cv, pointee + split);
    u->function_pointer = t;
    u->function_pointer_split = split + strlen(star) + strlen(self_cv);
    return t;
}

static const char *cv_suffix(char cv)
{
    switch (cv) {
    case 'A': return "";
    case 'B': return " const";
    case 'C': return " volatile";
    case 'D': return " const volatile";
    default: return NULL;
    }
}

/* Pointer or reference: code, then modifiers 'E' (__ptr64, not shown),
 * 'F' __unaligned, 'I' __restrict, then '6' function type or a cv letter
 * and the pointee. */
static const char *pointer(undecorator *u, const char *star, const char *self_cv)
{
    while (peek(u) == 'E' || peek(u) == 'F' || peek(u) == 'I')
        u->pos++;
    if (take(u, "6"))
        return function_pointer(u, *self_cv ? fmt(u, "%s%s", star, self_cv) : star);
    const char *cv = cv_suffix(next(u));
    const char *pointee = cv ? type(u) : NULL;
    if (!pointee)
        return fail(u), NULL;
    if (pointee == u->function_pointer && !*cv)
        return pointer_to_function_pointer(u, pointee, star, self_cv);
    size_t n = strlen(pointee);
    bool glue = n && (pointee[n - 1] == '*' || pointee[n - 1] == '&');
    return fmt(u, "%s%s%s%s%s", pointee, cv, glue && !*cv ? "" : " ", star, self_cv);
}

static const char *type_backref(undecorator *u)
{
    size_t i = (size_t)(next(u) - '0');
    if (i >= u->refs.type_count)
        return fail(u), NULL;
    return u->refs.types[i];
}

static const char *extended_type(undecorator *u)
{
    if (take(u, "$Q"))
        return pointer(u, "&&", "");
    if (take(u, "$R"))
        return pointer(u, "&&", " volatile");
    if (take(u, "$T"))
        return "std::nullptr_t";
    if (take(u, "$A6"))
        return function_pointer(u, "");
    if (take(u, "$B") || take(u, "$C")) {
        if (u->s[u->pos - 1] == 'C' && !cv_suffix(next(u)))
            return fail(u), NULL;
        return type(u);
    }
    return fail(u), NULL;
}

static const char *type_inner(undecorator *u)
{
    char c = next(u);
    const char *p = primitive(c);
    if (p)
        return p;
    switch (c) {
    case '_': return (p = extended_primitive(next(u))) ? p : (fail(u), NULL);
    case 'T': case 'U': case 'V': case 'W': return tag_type(u, c);
    case 'A': return pointer(u, "&", "");
    case 'B': return pointer(u, "&", " volatile");
    case 'P': return pointer(u, "*", "");
    case 'Q': return pointer(u, "*", "const");
    case 'R': return pointer(u, "*", "volatile");
    case 'S': return pointer(u, "*", "const volatile");
    case '$': return extended_type(u);
    case '?': return next(u), type(u); /* cv-qualified class (template arguments) */
    default:
        if (c >= '0' && c <= '9') {
            u->pos--;
            return type_backref(u);
        }
        return fail(u), NULL;
    }
}

static const char *type(undecorator *u)
{
    if (!enter(u))
        return NULL;
    const char *t = type_inner(u);
    leave(u);
    return t ? t : (fail(u), NULL);
}

/* ---- Template instantiations ---- */

/* A template argument: "$0" integer, "$$V"/"$$Z"/"$S" empty pack, "$1"
 * address of a symbol, or a type. NULL with no failure for an empty pack. */
static const char *template_argument(undecorator *u, bool *empty)
{
    *empty = false;
    if (take(u, "$$V") || take(u, "$$Z") || take(u, "$S") || take(u, "$$$V")) {
        *empty = true;
        return "";
    }
    long long value;
    if (take(u, "$0"))
        return encoded_number(u, &value) ? fmt(u, "%lld", value) : NULL;
    return type(u);
}

/* "?$" name '@' arguments '@'. Arguments have their own back-reference
 * tables; the instantiation as a whole is remembered outside. */
static const char *template_name(undecorator *u)
{
    if (!enter(u))
        return NULL;
    backrefs outer = u->refs;
    memset(&u->refs, 0, sizeof u->refs);
    const char *name = peek(u) == '?' ? NULL : simple_name(u);
    if (name)
        remember_name(u, name);
    const char *args = "";
    while (name && !u->failed && !take(u, "@")) {
        bool empty;
        const char *arg = template_argument(u, &empty);
        if (!arg)
            break;
        if (!empty)
            args = fmt(u, "%s%s%s", args, *args ? ", " : "", arg);
    }
    u->refs = outer;
    leave(u);
    if (!name || u->failed)
        return fail(u), NULL;
    return fmt(u, "%s<%s>", name, args);
}

/* ---- Special names ---- */

static const char *operator_name(char c)
{
    static const char *const names[] = {
        ['2'] = "operator new", ['3'] = "operator delete", ['4'] = "operator=",
        ['5'] = "operator>>", ['6'] = "operator<<", ['7'] = "operator!",
        ['8'] = "operator==", ['9'] = "operator!=", ['A'] = "operator[]",
        ['C'] = "operator->", ['D'] = "operator*", ['E'] = "operator++",
        ['F'] = "operator--", ['G'] = "operator-", ['H'] = "operator+",
        ['I'] = "operator&", ['J'] = "operator->*", ['K'] = "operator/",
        ['L'] = "operator%", ['M'] = "operator<", ['N'] = "operator<=",
        ['O'] = "operator>", ['P'] = "operator>=", ['Q'] = "operator,",
        ['R'] = "operator()", ['S'] = "operator~", ['T'] = "operator^",
        ['U'] = "operator|", ['V'] = "operator&&", ['W'] = "operator||",
        ['X'] = "operator*=", ['Y'] = "operator+=", ['Z'] = "operator-=",
    };
    return (unsigned char)c < sizeof names / sizeof names[0] ? names[(unsigned char)c] : NULL;
}

/* "?_x" names, spelled as WinDbg and DIA spell them. */
static const char *underscore_operator_name(char c)
{
    static const char *const names[] = {
        ['0'] = "operator/=", ['1'] = "operator%=", ['2'] = "operator>>=",
        ['3'] = "operator<<=", ['4'] = "operator&=", ['5'] = "operator|=",
        ['6'] = "operator^=", ['7'] = "`vftable'", ['8'] = "`vbtable'", ['9'] = "`vcall'",
        ['A'] = "`typeof'", ['B'] = "`local static guard'", ['C'] = "`string'",
        ['D'] = "`vbase destructor'", ['E'] = "`vector deleting destructor'",
        ['F'] = "`default constructor closure'", ['G'] = "`scalar deleting destructor'",
        ['H'] = "`vector constructor iterator'", ['I'] = "`vector destructor iterator'",
        ['J'] = "`vector vbase constructor iterator'", ['K'] = "`virtual displacement map'",
        ['L'] = "`eh vector constructor iterator'", ['M'] = "`eh vector destructor iterator'",
        ['N'] = "`eh vector vbase constructor iterator'", ['O'] = "`copy constructor closure'",
        ['S'] = "`local vftable'", ['T'] = "`local vftable constructor closure'",
        ['U'] = "operator new[]", ['V'] = "operator delete[]",
        ['X'] = "`placement delete closure'", ['Y'] = "`placement delete[] closure'",
    };
    return (unsigned char)c < sizeof names / sizeof names[0] ? names[(unsigned char)c] : NULL;
}

/* "??_R1" + four encoded numbers: an RTTI base class descriptor. */
static const char *rtti_name(undecorator *u)
{
    static const char *const names[] = {
        "`RTTI Type Descriptor'", NULL, "`RTTI Base Class Array'",
        "`RTTI Class Hierarchy Descriptor'", "`RTTI Complete Object Locator'"};
    char c = next(u);
    if (c == '1') {
        long long v[4];
        for (size_t i = 0; i < 4; i++)
            if (!encoded_number(u, &v[i]))
                return NULL;
        return fmt(u, "`RTTI Base Class Descriptor at (%lld, %lld, %lld, %lld)'", v[0], v[1],
                   v[2], v[3]);
    }
    if (c >= '0' && c <= '4')
        return names[c - '0'];
    return fail(u), NULL;
}

/* "??__E" / "??__F": dynamic initializer / atexit destructor of a
 * variable named by a plain name or a nested decorated name. */
static const char *dynamic_name(undecorator *u, const char *what)
{
    const char *target;
    if (peek(u) == '?') {
        u->pos++;
        target = qualified_name(u);
        if (target && !skip_symbol_encoding(u, NULL))
            target = NULL;
    } else {
        target = simple_name(u);
    }
    return target ? fmt(u, "`%s '%s''", what, target) : NULL;
}

/* The name after "??": constructors and destructors are marked and named
 * after their class later. */
typedef enum special_kind { SPECIAL_NONE, SPECIAL_CTOR, SPECIAL_DTOR, SPECIAL_CAST,
                            SPECIAL_RTTI0 } special_kind;

static const char *special_name(undecorator *u, special_kind *kind)
{
    char c = next(u);
    if (c == '0' || c == '1') {
        *kind = c == '0' ? SPECIAL_CTOR : SPECIAL_DTOR;
        return "";
    }
    if (c == 'B') {
        *kind = SPECIAL_CAST;
        return "";
    }
    if (c != '_')
        return operator_name(c) ? operator_name(c) : (fail(u), NULL);
    c = next(u);
    if (c == 'R') {
        if (peek(u) == '0')
            *kind = SPECIAL_RTTI0;
        return rtti_name(u);
    }
    if (c == '_') {
        c = next(u);
        if (c == 'E')
            return dynamic_name(u, "dynamic initializer for");
        if (c == 'F')
            return dynamic_name(u, "dynamic atexit destructor for");
        return fail(u), NULL;
    }
    return underscore_operator_name(c) ? underscore_operator_name(c) : (fail(u), NULL);
}

/* ---- Scopes ---- */

/* "?A0x<hex>@": an anonymous namespace. */
static const char *anonymous_namespace(undecorator *u)
{
    const char *id = simple_name(u);
    if (id)
        remember_name(u, id);
    return id ? "`anonymous namespace'" : NULL;
}

/* "?<number>?<decorated name>": a name local to a function body; shown as
 * "`function'::`number'". */
static const char *local_scope(undecorator *u, const char **function)
{
    long long n;
    if (!encoded_number(u, &n) || !take(u, "??"))
        return fail(u), NULL;
    if (!enter(u))
        return NULL;
    backrefs outer = u->refs;
    memset(&u->refs, 0, sizeof u->refs);
    bool extern_c = false;
    const char *name = decorated_symbol(u, true, &extern_c);
    u->refs = outer;
    leave(u);
    if (!name || u->failed)
        return NULL;
    *function = fmt(u, "`%s%s'", extern_c ? "extern \"C\" " : "", name);
    return fmt(u, "`%lld'", n);
}

/* Scope fragments up to '@', innermost first, joined outermost first as
 * "a::b::innermost". `innermost` may be NULL (constructor scopes). */
static const char *scope_chain(undecorator *u, const char *innermost, const char **first_parsed)
{
    const char *parts[MAX_SCOPES];
    size_t count = 0;
    if (innermost)
        parts[count++] = innermost;
    while (!u->failed && !take(u, "@")) {
        const char *part = NULL, *function = NULL;
        if (count + 2 > MAX_SCOPES)
            return fail(u), NULL;
        if (peek(u) >= '0' && peek(u) <= '9')
            part = name_backref(u);
        else if (take(u, "?$"))
            remember_name(u, part = template_name(u));
        else if (take(u, "?A0x"))
            part = anonymous_namespace(u);
        else if (take(u, "?"))
            part = local_scope(u, &function);
        else if ((part = simple_name(u)))
            remember_name(u, part);
        if (!part)
            return fail(u), NULL;
        if (first_parsed && !*first_parsed)
            *first_parsed = part;
        parts[count++] = part;
        if (function)
            parts[count++] = function;
    }
    const char *out = "";
    for (size_t i = count; i-- > 0 && out;)
        out = fmt(u, "%s%s%s", out, *out ? "::" : "", parts[i]);
    return u->failed ? NULL : out;
}

/* Unqualified name then its scope chain, e.g. a tag type's name. */
static const char *qualified_name(undecorator *u)
{
    if (!enter(u))
        return NULL;
    const char *first = NULL;
    if (peek(u) >= '0' && peek(u) <= '9')
        first = name_backref(u);
    else if (take(u, "?$"))
        remember_name(u, first = template_name(u));
    else if ((first = simple_name(u)))
        remember_name(u, first);
    const char *out = first ? scope_chain(u, first, NULL) : NULL;
    leave(u);
    return out;
}

/* ---- Symbol encodings after the name ---- */

/* Skips the type encoding of a symbol, returning a function's return type
 * through `return_type` when asked. Supported: global and member
 * functions, variables, extern "C" ('9'). */
static bool skip_symbol_encoding(undecorator *u, const char **return_type)
{
    char c = next(u);
    const char *ret, *params;
    if (c == '9')
        return true;
    if (c >= '0' && c <= '4') { /* variables: type, storage cv */
        if (!type(u))
            return false;
        while (peek(u) == 'E' || peek(u) == 'F' || peek(u) == 'I')
            u->pos++;
        return cv_suffix(next(u)) != NULL || fail(u);
    }
    bool global = c == 'Y' || c == 'Z';
    bool member = c >= 'A' && c <= 'V' && c != 'O' && c != 'P' && c != 'G' && c != 'H' &&
                  c != 'W' && c != 'X';
    if (!global && !member)
        return fail(u);
    bool is_static = c == 'C' || c == 'D' || c == 'K' || c == 'L' || c == 'S' || c == 'T';
    if (member && !is_static) {
        while (peek(u) == 'E' || peek(u) == 'F' || peek(u) == 'I')
            u->pos++;
        if (!cv_suffix(next(u)))
            return fail(u);
    }
    if (!calling_convention(next(u)) || !function_type(u, &ret, &params))
        return fail(u);
    if (return_type)
        *return_type = ret;
    return true;
}

/* "6B" [scope '@'] '@': the "{for `Base'}" suffix of a vftable. */
static const char *vftable_suffix(undecorator *u)
{
    if (!take(u, "6B") || take(u, "@"))
        return "";
    const char *base = qualified_name(u);
    return base ? fmt(u, "{for `%s'}", base) : "";
}

/* Names the constructor, destructor or conversion operator after the
 * class (the innermost scope fragment) or the return type. */
static const char *finish_special(undecorator *u, special_kind kind, const char *scope,
                                  const char *cls)
{
    if (kind == SPECIAL_CTOR)
        return fmt(u, "%s::%s", scope, cls);
    if (kind == SPECIAL_DTOR)
        return fmt(u, "%s::~%s", scope, cls);
    const char *ret = NULL;
    if (!skip_symbol_encoding(u, &ret) || !ret)
        return fail(u), NULL;
    return fmt(u, "%s::operator %s", scope, ret);
}

/* The symbol after its leading '?': name, scope chain and, for a symbol
 * nested in a local scope (`nested`), its whole type encoding; the
 * top-level encoding is read only where the name depends on it. */
static const char *decorated_symbol(undecorator *u, bool nested, bool *extern_c)
{
    if (take(u, "?_C@"))
        return nested ? (fail(u), NULL) : "`string'";
    special_kind kind = SPECIAL_NONE;
    const char *name, *full = NULL, *cls = NULL;
    bool encoding_read = false;
    if (take(u, "?$"))
        remember_name(u, name = template_name(u));
    else if (take(u, "?"))
        name = special_name(u, &kind);
    else if ((name = simple_name(u)))
        remember_name(u, name);
    if (!name)
        return NULL;
    if (kind == SPECIAL_RTTI0) { /* the type described, then the name */
        const char *t = type(u);
        size_t n = t ? strlen(t) : 0;
        full = t ? fmt(u, "%s%s%s", t, n && t[n - 1] == '*' ? "" : " ", name) : NULL;
    } else if (kind == SPECIAL_CTOR || kind == SPECIAL_DTOR || kind == SPECIAL_CAST) {
        const char *scope = scope_chain(u, NULL, &cls);
        full = scope && cls ? finish_special(u, kind, scope, cls) : (fail(u), NULL);
        encoding_read = kind == SPECIAL_CAST;
    } else {
        full = scope_chain(u, name, NULL);
        if (full && strcmp(name, "`vftable'") == 0)
            full = fmt(u, "%s%s", full, vftable_suffix(u));
    }
    if (full && nested && !encoding_read) {
        *extern_c = peek(u) == '9';
        if (!skip_symbol_encoding(u, NULL))
            return NULL;
    }
    return full;
}

bool dt_undecorate_msvc(const char *decorated, char *out, size_t size)
{
    if (!out || size == 0)
        return false;
    out[0] = '\0';
    if (!decorated)
        return false;
    size_t len = strnlen(decorated, MAX_INPUT + 1);
    undecorator state, *u = NULL;
    if (len >= 2 && len <= MAX_INPUT && decorated[0] == '?') {
        u = &state;
        memset(&u->refs, 0, sizeof u->refs);
        u->s = decorated;
        u->len = len;
        u->pos = 1;
        u->depth = 0;
        u->failed = false;
        u->pool_used = 0;
        u->function_pointer = NULL;
    }
    bool extern_c;
    const char *result = u ? decorated_symbol(u, false, &extern_c) : NULL;
    if (!result || u->failed || strlen(result) >= size) {
        snprintf(out, size, "%.*s", (int)(len < MAX_INPUT ? len : MAX_INPUT), decorated);
        return false;
    }
    memcpy(out, result, strlen(result) + 1);
    return true;
}
