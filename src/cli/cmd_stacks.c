/* dumptriage stacks DUMP: every thread's call stack. */
#include "cli/cli.h"

#include <stdlib.h>

#include "dumptriage/triage.h"

enum { MAX_PATHS = 32 };

static const cli_option stacks_options[] = {
    {"images", 'i', "PATH", "where module images are: a directory, a symbol store, or "
                            "srv*CACHE*URL; also read from _NT_EXECUTABLE_IMAGE_PATH", true},
    {"symbols", 's', "PATH", "where symbols are (PDB, Breakpad .sym): a directory, a symbol "
                             "store, srv*CACHE*URL or cache*DIR; also _NT_SYMBOL_PATH", true},
    {"format", 'f', "FORMAT", "output format: text (default) or json", false},
    {"offline", 0, NULL, "never download from symbol servers (srv* entries)", false},
    {"no-group", 0, NULL, "list every thread instead of grouping identical stacks", false},
    CLI_WALK_OPTIONS,
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static int run_stacks(int argc, char **argv);

const cli_command cli_stacks_command = {
    "stacks", "DUMP [--images PATH]... [--symbols PATH]... [--offline]\n"
              "                  [--format text|json] [--no-group] [--max-frames N]",
    "Walk every thread's stack from the modules' unwind data (.pdata/.xdata), with\n"
    "honest fallbacks, and say how far each frame can be trusted: context, cfi,\n"
    "frame_pointer or scan. Threads with identical stacks are grouped.",
    stacks_options, run_stacks};

typedef struct stacks_job {
    dt_format format;
    bool group;
    bool offline;
    bool wow64_native;
    size_t max_frames;
    size_t time_budget_ms;
    const char *image_paths[MAX_PATHS];
    size_t image_path_count;
    const char *symbol_paths[MAX_PATHS];
    size_t symbol_path_count;
} stacks_job;

static bool parse_job(const cli_args *args, stacks_job *job)
{
    const cli_command *c = &cli_stacks_command;
    job->group = !cli_value(c, args, "no-group");
    job->offline = cli_value(c, args, "offline") != NULL;
    job->wow64_native = cli_value(c, args, "wow64-native") != NULL;
    job->image_path_count = cli_values(c, args, "images", job->image_paths, MAX_PATHS);
    job->symbol_path_count = cli_values(c, args, "symbols", job->symbol_paths, MAX_PATHS);
    if (!cli_format(cli_value(c, args, "format"), &job->format) ||
        !cli_size("max-frames", cli_value(c, args, "max-frames"), &job->max_frames) ||
        !cli_size("time-budget", cli_value(c, args, "time-budget"), &job->time_budget_ms))
        return false;
    if (args->positional_count != 1) {
        fprintf(stderr, "dumptriage stacks: expected one DUMP argument\n");
        return false;
    }
    return true;
}

static int report_stacks(const char *path, const stacks_job *job)
{
    dt_triage_options options = {job->image_paths, job->image_path_count, job->symbol_paths,
                                 job->symbol_path_count, job->offline, job->max_frames, NULL,
                                 (uint32_t)job->time_budget_ms, job->wow64_native};
    dt_triage *t = NULL;
    dt_error err = {0};
    if (dt_triage_run(&t, path, &options, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        return EXIT_INPUT;
    }
    char *report = dt_triage_stacks(t) ? dt_report_stacks(dt_triage_dump(t), dt_triage_stacks(t),
                                                          dt_triage_images(t),
                                                          dt_triage_symbolizer(t), job->format,
                                                          job->group)
                                       : NULL;
    bool written = report && cli_write_stdout(report);
    if (!report)
        fprintf(stderr, "dumptriage: out of memory while walking the stacks\n");
    free(report);
    dt_triage_free(t);
    return written ? EXIT_OK : EXIT_INPUT;
}

static int run_stacks(int argc, char **argv)
{
    cli_args args;
    stacks_job job = {0};
    if (!cli_parse(&cli_stacks_command, argc, argv, &args))
        return EXIT_USAGE;
    if (cli_value(&cli_stacks_command, &args, "help")) {
        cli_print_command_help(&cli_stacks_command, stdout);
        return EXIT_OK;
    }
    if (!parse_job(&args, &job))
        return EXIT_USAGE;
    return report_stacks(args.positional[0], &job);
}
