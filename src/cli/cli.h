/* The command-line layer: option parsing and the commands. */
#ifndef DT_CLI_H
#define DT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "dumptriage/report.h"

/* Exit codes, for every command. */
enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_USAGE = 2, EXIT_INPUT = 3 };

typedef struct cli_option {
    const char *name;        /* long name without dashes */
    char short_name;         /* 0 when none */
    const char *argument;    /* metavariable, NULL for a flag */
    const char *help;
    bool repeatable;         /* every occurrence is kept, in order */
} cli_option;

/* The walk options that `stacks` and `analyze` share. */
#define CLI_WALK_OPTIONS                                                                     \
    {"max-frames", 0, "N", "frames walked per thread at most (default 1024)", false},         \
    {"wow64-native", 0, NULL, "for a 32-bit process dumped by a 64-bit writer, walk the "     \
                              "64-bit side of its threads instead of their 32-bit stacks",   \
     false},                                                                                 \
    {"time-budget", 0, "MS", "stop walking and naming threads after MS milliseconds per dump " \
                             "(partial results carry a diagnostic; default: no limit)", false}

typedef struct cli_command {
    const char *name;
    const char *usage;       /* "DUMP [options]" */
    const char *summary;
    const cli_option *options;
    int (*run)(int argc, char **argv);
} cli_command;

/* Parsed options: a value per option index (NULL when absent; "" for a set
 * flag), plus positional arguments. */
enum { CLI_MAX_OPTIONS = 32, CLI_MAX_POSITIONAL = 64, CLI_MAX_REPEATS = 64 };
typedef struct cli_args {
    const char *values[CLI_MAX_OPTIONS];
    const char *positional[CLI_MAX_POSITIONAL];
    int positional_count;
    struct { int option; const char *value; } repeats[CLI_MAX_REPEATS];
    int repeat_count;
} cli_args;

/* Parses argv (after the command name). Prints a message and returns false
 * on a usage error. `--help` sets the "help" option. */
bool cli_parse(const cli_command *command, int argc, char **argv, cli_args *out);
void cli_print_command_help(const cli_command *command, FILE *to);
/* Index of option `name` in the command's table (must exist). */
int cli_option_index(const cli_command *command, const char *name);
const char *cli_value(const cli_command *command, const cli_args *args, const char *name);
/* Every value of a repeatable option, in order; returns how many (<= max). */
size_t cli_values(const cli_command *command, const cli_args *args, const char *name,
                  const char **out, size_t max);
/* Parses a positive integer option; prints an error and returns false when
 * invalid. Leaves *out unchanged when the option is absent. */
bool cli_size(const char *option, const char *value, size_t *out);
/* Parses --format; prints an error and returns false when invalid. */
bool cli_format(const char *value, dt_format *out);

/* Writes `text` to stdout; false (after a message) when that fails. */
bool cli_write_stdout(const char *text);

extern const cli_command cli_info_command;
extern const cli_command cli_stacks_command;
extern const cli_command cli_rules_command;
extern const cli_command cli_analyze_command;

#endif
