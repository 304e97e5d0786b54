/* Summary templates: "{name}" placeholders, "{{" and "}}" for braces. */
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
        if (length == 0 || !check(context, text + i + 1, length))
            return i;
        i += length + 1;
    }
    return (size_t)-1;
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
        const char *value = lookup(context, text + i + 1, length);
        *all_bound &= value != NULL;
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
