#include "cli/color.h"

#include <stdlib.h>
#include <string.h>

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define GREEN "\033[1;32m"
#define CYAN "\033[36m"
#define RESET "\033[0m"

/* Line starts that get a color: verdicts (docs/json.md, verdict) and the
 * "[severity] rule-id: title" headings of findings. */
static const struct {
    const char *prefix;
    const char *color;
} colored_lines[] = {
    {"CRASH: ", RED},       {"HANG: ", RED},      {"BUSY: ", YELLOW},
    {"PROBLEM: ", YELLOW},  {"PARTIAL: ", YELLOW}, {"DAMAGED: ", YELLOW},
    {"OK: ", GREEN},        {"[error] ", RED},     {"[warning] ", YELLOW},
    {"[info] ", CYAN},
};

static const char *line_color(const char *line)
{
    for (size_t i = 0; i < sizeof colored_lines / sizeof colored_lines[0]; i++)
        if (strncmp(line, colored_lines[i].prefix, strlen(colored_lines[i].prefix)) == 0)
            return colored_lines[i].color;
    return NULL;
}

char *color_text_report(const char *text)
{
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    size_t extra = sizeof RED + sizeof RESET;
    char *out = malloc(strlen(text) + lines * extra + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        const char *color = line_color(line);
        if (color)
            o = stpcpy(o, color);
        memcpy(o, line, length);
        o += length;
        if (color)
            o = stpcpy(o, RESET);
        if (end)
            *o++ = '\n';
        line += length + (end != NULL);
    }
    *o = '\0';
    return out;
}
