/*
 * Frame name matching: "module!function" globs with the equivalences of
 * SIGNATURES.md. Names are compared through views that apply the
 * equivalences without copying: a module view drops the file extension and
 * maps an alias to its family name; a function view reads a "Zw" prefix as
 * "Nt". Comparison is case-insensitive (ASCII).
 */
#include "analysis/analysis_internal.h"

#include <ctype.h>
#include <string.h>

typedef struct name_view {
    const char *text;
    size_t length;
    bool zw_as_nt;           /* the first two characters read as "nt" */
} name_view;

/* A lower-case name with its length, known at compile time: views compare
 * lengths before characters (this runs for every frame against every
 * pattern of every rule). */
typedef struct known_name {
    const char *text;
    size_t length;
} known_name;

#define KNOWN(s) {s, sizeof(s) - 1}

/* Module families: each alias is compared as its family's first name. */
static const known_name module_families[][4] = {
    {KNOWN("kernel32"), KNOWN("kernelbase")},
    {KNOWN("ole32"), KNOWN("combase")},
    {KNOWN("clr"), KNOWN("coreclr"), KNOWN("mscorwks"), KNOWN("mscorsvr")},
};

static const known_name system_modules[] = {KNOWN("ntdll"), KNOWN("kernel32"), KNOWN("user32"),
                                            KNOWN("win32u"), KNOWN("ole32")};

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char view_char(const name_view *v, size_t i)
{
    if (v->zw_as_nt && i < 2)
        return "nt"[i];
    return ascii_lower(v->text[i]);
}

static bool view_equals(const name_view *v, const known_name *lower)
{
    if (v->length != lower->length)
        return false;
    for (size_t i = 0; i < lower->length; i++)
        if (view_char(v, i) != lower->text[i])
            return false;
    return true;
}

bool an_is_syscall_name(const char *name)
{
    return name && ((name[0] == 'N' && name[1] == 't') || (name[0] == 'Z' && name[1] == 'w')) &&
           isupper((unsigned char)name[2]);
}

/* "Zw" followed by a letter (or, in a pattern, a wildcard) reads as "Nt". */
static name_view function_view(const char *text, size_t length)
{
    bool zw = length > 2 && ascii_lower(text[0]) == 'z' &&
              ascii_lower(text[1]) == 'w' &&
              (isalpha((unsigned char)text[2]) || text[2] == '*' || text[2] == '?');
    return (name_view){text, length, zw};
}

/* The module name without its extension, as its family name when it has one. */
static name_view module_view(const char *text, size_t length)
{
    const char *dot = NULL;
    for (size_t i = 0; i < length; i++)
        if (text[i] == '.')
            dot = text + i;
    name_view v = {text, dot ? (size_t)(dot - text) : length, false};
    for (size_t f = 0; f < sizeof module_families / sizeof module_families[0]; f++)
        for (size_t k = 0; k < 4 && module_families[f][k].text; k++)
            if (view_equals(&v, &module_families[f][k]))
                return (name_view){module_families[f][0].text, module_families[f][0].length, false};
    return v;
}

/* Glob match ('*' any run, '?' one character) with one backtrack point:
 * O(pattern x text) at worst, no recursion. */
static bool glob_matches(const name_view *pattern, const name_view *text)
{
    size_t p = 0, t = 0, star = SIZE_MAX, star_t = 0;
    while (t < text->length) {
        char pc = p < pattern->length ? view_char(pattern, p) : '\0';
        if (pc == '*') {
            star = p++;
            star_t = t;
        } else if (p < pattern->length && (pc == '?' || pc == view_char(text, t))) {
            p++;
            t++;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            t = ++star_t;
        } else {
            return false;
        }
    }
    while (p < pattern->length && view_char(pattern, p) == '*')
        p++;
    return p == pattern->length;
}

static bool function_matches(const name_view *pattern, const char *function)
{
    const char *name = function ? function : "";
    name_view v = function_view(name, strlen(name));
    return glob_matches(pattern, &v);
}

static bool frame_function_matches(const name_view *pattern, const dt_frame *frame)
{
    if (function_matches(pattern, frame->function))
        return true;
    for (size_t i = 0; i < frame->inline_count && frame->inlines; i++)
        if (frame->inlines[i].function && function_matches(pattern, frame->inlines[i].function))
            return true;
    return false;
}

static name_view frame_module_view(const dt_frame *frame)
{
    const char *name = frame->module && frame->module->name ? frame->module->name : "";
    return module_view(name, strlen(name));
}

bool dt_frame_name_matches(const char *pattern, const dt_frame *frame)
{
    if (!pattern || !frame)
        return false;
    const char *bang = strchr(pattern, '!');
    if (!bang) {
        name_view f = function_view(pattern, strlen(pattern));
        return frame_function_matches(&f, frame);
    }
    /* The function first: it rejects most frames at its first characters,
     * while a module view scans the whole name. */
    name_view f = function_view(bang + 1, strlen(bang + 1));
    if (!frame_function_matches(&f, frame))
        return false;
    name_view m = module_view(pattern, (size_t)(bang - pattern));
    name_view module = frame_module_view(frame);
    return glob_matches(&m, &module);
}

bool an_frame_matches_any(const dt_frame *frame, const char *const *patterns)
{
    for (size_t i = 0; patterns[i]; i++)
        if (dt_frame_name_matches(patterns[i], frame))
            return true;
    return false;
}

bool an_frame_in_system_module(const dt_frame *frame)
{
    name_view module = frame_module_view(frame);
    for (size_t i = 0; i < sizeof system_modules / sizeof system_modules[0]; i++)
        if (view_equals(&module, &system_modules[i]))
            return true;
    return false;
}

bool an_module_is_clr(const char *module_name)
{
    if (!module_name)
        return false;
    static const known_name clr = KNOWN("clr");
    name_view v = module_view(module_name, strlen(module_name));
    return view_equals(&v, &clr);
}
