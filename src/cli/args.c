/* Option parsing shared by the commands: --name VALUE, --name=VALUE, -x VALUE. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_option_index(const cli_command *command, const char *name)
{
    for (int i = 0; command->options[i].name; i++)
        if (strcmp(command->options[i].name, name) == 0)
            return i;
    return -1;
}

const char *cli_value(const cli_command *command, const cli_args *args, const char *name)
{
    int i = cli_option_index(command, name);
    return i >= 0 ? args->values[i] : NULL;
}

static const cli_option *find_option(const cli_command *command, const char *arg, int *index,
                                     const char **inline_value)
{
    *inline_value = NULL;
    for (int i = 0; command->options[i].name; i++) {
        const cli_option *o = &command->options[i];
        if (arg[1] != '-') {
            if (o->short_name && arg[1] == o->short_name && arg[2] == '\0') {
                *index = i;
                return o;
            }
            continue;
        }
        size_t n = strlen(o->name);
        if (strncmp(arg + 2, o->name, n) == 0 && (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
            *index = i;
            if (arg[2 + n] == '=')
                *inline_value = arg + 3 + n;
            return o;
        }
    }
    return NULL;
}

static bool usage_error(const cli_command *command, const char *message, const char *arg)
{
    fprintf(stderr, "dumptriage %s: %s '%s'\n", command->name, message, arg);
    fprintf(stderr, "Try 'dumptriage %s --help'.\n", command->name);
    return false;
}

bool cli_parse(const cli_command *command, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof *out);
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (out->positional_count == CLI_MAX_POSITIONAL)
                return usage_error(command, "too many arguments at", arg);
            out->positional[out->positional_count++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        int index;
        const char *value;
        const cli_option *o = find_option(command, arg, &index, &value);
        if (!o)
            return usage_error(command, "unknown option", arg);
        if (!o->argument) {
            if (value)
                return usage_error(command, "option takes no value", arg);
            out->values[index] = "";
            continue;
        }
        if (!value) {
            if (i + 1 >= argc)
                return usage_error(command, "option needs a value", arg);
            value = argv[++i];
        }
        out->values[index] = value;
        if (o->repeatable) {
            if (out->repeat_count == CLI_MAX_REPEATS)
                return usage_error(command, "too many repeated options at", arg);
            out->repeats[out->repeat_count].option = index;
            out->repeats[out->repeat_count++].value = value;
        }
    }
    return true;
}

void cli_print_command_help(const cli_command *command, FILE *to)
{
    fprintf(to, "Usage: dumptriage %s %s\n\n%s\n\nOptions:\n", command->name, command->usage,
            command->summary);
    for (int i = 0; command->options[i].name; i++) {
        const cli_option *o = &command->options[i];
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                     o->argument ? " " : "", o->argument ? o->argument : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->argument ? " " : "",
                     o->argument ? o->argument : "");
        fprintf(to, "  %-28s %s%s\n", left, o->help, o->repeatable ? " (repeatable)" : "");
    }
    fputs("\nExit status: 0 success, 1 findings at or above --fail-on, 2 usage error,\n"
          "3 an input could not be analyzed.\n", to);
}

size_t cli_values(const cli_command *command, const cli_args *args, const char *name,
                  const char **out, size_t max)
{
    int index = cli_option_index(command, name);
    size_t n = 0;
    for (int i = 0; i < args->repeat_count && n < max; i++)
        if (args->repeats[i].option == index)
            out[n++] = args->repeats[i].value;
    return n;
}

bool cli_size(const char *option, const char *value, size_t *out)
{
    if (!value)
        return true;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(value, &end, 10);
    if (errno || *end || end == value || n == 0 || n > 1000000 || value[0] == '-') {
        fprintf(stderr, "dumptriage: --%s needs a whole number from 1 to 1000000, not '%s'\n",
                option, value);
        return false;
    }
    *out = (size_t)n;
    return true;
}

bool cli_write_stdout(const char *text)
{
    if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "dumptriage: cannot write the output: %s\n", strerror(errno));
        return false;
    }
    return true;
}

bool cli_format(const char *value, dt_format *out)
{
    if (!value || strcmp(value, "text") == 0) {
        *out = DT_FORMAT_TEXT;
        return true;
    }
    if (strcmp(value, "json") == 0) {
        *out = DT_FORMAT_JSON;
        return true;
    }
    fprintf(stderr, "dumptriage: unknown format '%s' (expected text or json)\n", value);
    return false;
}
