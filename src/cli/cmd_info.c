/* dumptriage info DUMP: what the dump holds. */
#include "cli/cli.h"

#include <stdlib.h>

static const cli_option info_options[] = {
    {"format", 'f', "FORMAT", "output format: text (default) or json", false},
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static int run_info(int argc, char **argv);

const cli_command cli_info_command = {
    "info", "DUMP [--format text|json]",
    "Show what a minidump holds: dump kind, system, process, exception, modules,\n"
    "threads, handles, memory and reader diagnostics. DUMP may be gzip-compressed,\n"
    "or '-' for standard input.",
    info_options, run_info};

static int run_info(int argc, char **argv)
{
    cli_args args;
    dt_format format;
    if (!cli_parse(&cli_info_command, argc, argv, &args))
        return EXIT_USAGE;
    if (cli_value(&cli_info_command, &args, "help")) {
        cli_print_command_help(&cli_info_command, stdout);
        return EXIT_OK;
    }
    if (!cli_format(cli_value(&cli_info_command, &args, "format"), &format))
        return EXIT_USAGE;
    if (args.positional_count != 1) {
        fprintf(stderr, "dumptriage info: expected one DUMP argument\n");
        return EXIT_USAGE;
    }
    const char *path = args.positional[0];
    dt_dump *dump;
    dt_error err = {0};
    if (dt_dump_open(&dump, path, NULL, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        if (format == DT_FORMAT_JSON) {
            char *report = dt_report_error(path, "read", &err, format);
            if (report)
                fputs(report, stdout);
            free(report);
        }
        return EXIT_INPUT;
    }
    char *report = dt_report_info(dump, format);
    dt_dump_free(dump);
    if (!report) {
        fprintf(stderr, "dumptriage: out of memory while writing the report\n");
        return EXIT_INPUT;
    }
    bool written = cli_write_stdout(report);
    free(report);
    return written ? EXIT_OK : EXIT_INPUT;
}
