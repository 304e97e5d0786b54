/* dumptriage: the command-line entry point. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "dumptriage/version.h"

static const cli_command *const commands[] = {&cli_info_command, &cli_stacks_command,
                                              &cli_analyze_command, &cli_rules_command};
enum { COMMAND_COUNT = sizeof commands / sizeof commands[0] };

static void print_help(FILE *to)
{
    fputs("Usage: dumptriage COMMAND [options]\n\n"
          "Triage Windows crash and hang dumps (.dmp, .dmp.gz).\n\nCommands:\n", to);
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(to, "  %-10s %s\n", commands[i]->name, commands[i]->usage);
    fputs("  help       [COMMAND]\n\n"
          "Options:\n  --version  print the version\n  --help     show this help\n\n"
          "Run 'dumptriage COMMAND --help' for a command's options.\n", to);
}

static const cli_command *find_command(const char *name)
{
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int run_help(int argc, char **argv)
{
    if (argc == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    const cli_command *command = find_command(argv[0]);
    if (!command) {
        fprintf(stderr, "dumptriage: unknown command '%s'\n", argv[0]);
        return EXIT_USAGE;
    }
    cli_print_command_help(command, stdout);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("dumptriage %s\n", dt_version());
        return EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return run_help(0, NULL);
    if (strcmp(name, "help") == 0)
        return run_help(argc - 2, argv + 2);
    const cli_command *command = find_command(name);
    if (!command) {
        fprintf(stderr, "dumptriage: unknown command '%s'\nTry 'dumptriage --help'.\n", name);
        return EXIT_USAGE;
    }
    return command->run(argc - 2, argv + 2);
}
