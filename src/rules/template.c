/* Summary templates: "{name}" placeholders, "{{" and "}}" for braces, and
 * "{name:singular|plural}" for the word that agrees with a count. */
#include "rules/rules_internal.h"

#include <string.h>

#include "base/strbuf.h"

/* Length of the placeholder name after the '{' at text[at], or 0 when the
 * brace is not closed. */
static size_t placeholder_length(const char *text, size_t at)
{
    const char *close = strchr(text + at + 1, '}');
    const char *open = strchr(text + at + 1, '{');
    if (!close || (open && open < close))
        return 0;
    return (size_t)(close - (text + at + 1));
}

/* The placeholder's name: what precedes a ':' word choice. */
static size_t name_length(const char *name, size_t length)
{
    const char *colon = memchr(name, ':', length);
    return colon ? (size_t)(colon - name) : length;
}

/* A word choice after the name is "singular|plural", both non-empty. */
static bool word_choice_valid(const char *name, size_t length)
{
    size_t n = name_length(name, length);
    if (n == length)
        return true;
    const char *words = name + n + 1, *end = name + length;
    const char *bar = memchr(words, '|', (size_t)(end - words));
    return bar && bar > words && bar + 1 < end && !memchr(bar + 1, '|', (size_t)(end - bar - 1));
}

size_t template_scan(const char *text, template_name_check check, void *context)
{
    for (size_t i = 0; text[i]; i++) {
        if ((text[i] == '{' && text[i + 1] == '{') || (text[i] == '}' && text[i + 1] == '}')) {
            i++;
            continue;
        }
        if (text[i] == '}')
            return i;
        if (text[i] != '{')
            continue;
        size_t length = placeholder_length(text, i);
        const char *name = text + i + 1;
        if (length == 0 || !word_choice_valid(name, length) ||
            !check(context, name, name_length(name, length)))
            return i;
        i += length + 1;
    }
    return (size_t)-1;
}

/* Of "singular|plural", the word that agrees with `count` ("1" takes the
 * singular; an unbound count the plural). */
static void append_word(dt_strbuf *out, const char *count, const char *words, size_t length)
{
    const char *bar = memchr(words, '|', length);
    if (count && strcmp(count, "1") == 0)
        dt_strbuf_append(out, words, (size_t)(bar - words));
    else
        dt_strbuf_append(out, bar + 1, length - (size_t)(bar - words) - 1);
}

char *template_render(dt_arena *arena, const char *text, template_lookup lookup,
                      void *context, bool *all_bound)
{
    dt_strbuf out = {0};
    *all_bound = true;
    for (size_t i = 0; text[i]; i++) {
        bool doubled = (text[i] == '{' || text[i] == '}') && text[i + 1] == text[i];
        size_t length = text[i] == '{' && !doubled ? placeholder_length(text, i) : 0;
        if (length == 0) {
            dt_strbuf_append(&out, text + i, 1);
            i += doubled;
            continue;
        }
        const char *name = text + i + 1;
        size_t n = name_length(name, length);
        const char *value = lookup(context, name, n);
        *all_bound &= value != NULL;
        if (n < length)
            append_word(&out, value, name + n + 1, length - n - 1);
        else
            dt_strbuf_puts(&out, value ? value : "?");
        i += length + 1;
    }
    char *result = out.failed ? NULL : dt_arena_strndup(arena, out.data ? out.data : "",
                                                        out.length);
    dt_strbuf_free(&out);
    return result;
}

static bool in_names(const char *const *names, const char *name, size_t length)
{
    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == length && memcmp(names[i], name, length) == 0)
            return true;
    return false;
}

static const char *const exception_names[] = {
    "code", "code_name", "address", "module", "frame", "thread", "access", "target",
    "subcode", "subcode_name", "depth", "cycle", NULL};
static const char *const label_fields[] = {"count", "percent", "frame", "module", "first",
                                             NULL};

bool template_builtin_name(const char *name, size_t length)
{
    char fact[64];
    if (length < sizeof fact) {
        memcpy(fact, name, length);
        fact[length] = '\0';
        if (fact_find(fact))
            return true;
    }
    return in_names(exception_names, name, length);
}

bool template_label_field(const char *field, size_t length)
{
    return in_names(label_fields, field, length);
}
