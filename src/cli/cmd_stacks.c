/* dumptriage stacks DUMP: every thread's call stack. */
#include "cli/cli.h"

#include <stdlib.h>

#include "dumptriage/unwind.h"

enum { MAX_PATHS = 32 };

static const cli_option stacks_options[] = {
    {"images", 'i', "PATH", "where module images are: a directory, a symbol store, or "
                            "srv*CACHE*URL; also read from _NT_EXECUTABLE_IMAGE_PATH", true},
    {"symbols", 's', "PATH", "where symbols are (PDB, Breakpad .sym): a directory, a symbol "
                             "store, srv*CACHE*URL or cache*DIR; also _NT_SYMBOL_PATH", true},
    {"format", 'f', "FORMAT", "output format: text (default) or json", false},
    {"offline", 0, NULL, "never download from symbol servers (srv* entries)", false},
    {"no-group", 0, NULL, "list every thread instead of grouping identical stacks", false},
    {"max-frames", 0, "N", "frames walked per thread at most (default 1024)", false},
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
    dt_walk_options walk;
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
    job->image_path_count = cli_values(c, args, "images", job->image_paths, MAX_PATHS);
    job->symbol_path_count = cli_values(c, args, "symbols", job->symbol_paths, MAX_PATHS);
    if (!cli_format(cli_value(c, args, "format"), &job->format) ||
        !cli_size("max-frames", cli_value(c, args, "max-frames"), &job->walk.max_frames))
        return false;
    if (args->positional_count != 1) {
        fprintf(stderr, "dumptriage stacks: expected one DUMP argument\n");
        return false;
    }
    return true;
}

/* Walks, names and reports every thread's stack. */
static char *walk_and_report(const dt_dump *dump, stacks_job *job, dt_image_set *images,
                             dt_symbolizer *symbols)
{
    dt_stacks *stacks = NULL;
    char *report = NULL;
    job->walk.images = images;
    if (dt_walk_threads(&stacks, dump, &job->walk) == DT_OK &&
        dt_stacks_symbolize(stacks, symbols) == DT_OK)
        report = dt_report_stacks(dump, stacks, images, symbols, job->format, job->group);
    dt_stacks_free(stacks);
    return report;
}

static int report_stacks(const dt_dump *dump, stacks_job *job)
{
    dt_image_search image_search = {job->image_paths, job->image_path_count, true, true,
                                    job->offline};
    dt_image_set *images = NULL;
    dt_symbolizer *symbols = NULL;
    dt_error err = {0};
    if (dt_image_set_new(&images, dump, &image_search, &err) == DT_OK) {
        dt_symbol_search symbol_search = {job->symbol_paths, job->symbol_path_count, true,
                                          job->offline, images};
        dt_symbolizer_new(&symbols, dump, &symbol_search, &err);
    }
    char *report = symbols ? walk_and_report(dump, job, images, symbols) : NULL;
    bool written = report && cli_write_stdout(report);
    if (!report)
        fprintf(stderr, "dumptriage: %s\n", err.message[0] ? err.message : "out of memory");
    free(report);
    dt_symbolizer_free(symbols);
    dt_image_set_free(images);
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
    dt_dump *dump;
    dt_error err = {0};
    const char *path = args.positional[0];
    if (dt_dump_open(&dump, path, NULL, &err) != DT_OK) {
        fprintf(stderr, "dumptriage: %s\n", err.message);
        return EXIT_INPUT;
    }
    int code = report_stacks(dump, &job);
    dt_dump_free(dump);
    return code;
}
