/* dumptriage analyze PATH...: what is wrong and what to do, for one dump or
 * a folder of them. */
#include "cli/analyze.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/inputs.h"
#include "cli/jobs.h"

static const cli_option analyze_options[] = {
    {"images", 'i', "PATH", "where module images are (as for 'stacks'); repeatable", true},
    {"symbols", 's', "PATH", "where symbols are (as for 'stacks'); also _NT_SYMBOL_PATH", true},
    {"rules", 'r', "PATH", "a rule file or folder of *.yaml files to add", true},
    {"no-builtin-rules", 0, NULL, "do not load the built-in rules", false},
    {"format", 'f', "FORMAT", "text (default), json, ndjson, junit, sarif or html", false},
    {"output", 'o', "FILE", "write to FILE (replaced atomically) instead of stdout", false},
    {"fail-on", 0, "LEVEL", "exit 1 when a finding is at or above none (default), info, "
                            "warning or error", false},
    {"jobs", 'j', "N", "dumps analyzed in parallel (default: the number of cores)", false},
    {"summary", 0, NULL, "print a table per folder: dumps, errors, findings, top rules", false},
    {"progress", 0, NULL, "show progress on stderr (default: only when it is a terminal)", false},
    {"color", 0, "WHEN", "auto (default), always or never; NO_COLOR is respected", false},
    {"offline", 0, NULL, "never download from symbol servers", false},
    CLI_WALK_OPTIONS,
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static int run_analyze(int argc, char **argv);

const cli_command cli_analyze_command = {
    "analyze", "PATH... [--images PATH]... [--symbols PATH]... [--rules PATH]...\n"
               "                  [--format FORMAT] [--output FILE] [--fail-on LEVEL] [--jobs N]",
    "Triage dumps: walk and name every stack, find locks, deadlocks and known hang\n"
    "and crash signatures, and say what to do. PATH is a dump (.dmp, .dmp.gz, or '-'\n"
    "for standard input) or a folder, searched recursively for *.dmp, *.mdmp, *.hdmp,\n"
    "*.dmp.gz and any file with the MDMP signature. Results are in sorted path order.\n"
    "Exit status precedence: usage error 2, then input errors 3, then findings at or\n"
    "above --fail-on 1, else 0.",
    analyze_options, run_analyze};

static bool parse_level(const char *value, int *out)
{
    static const char *const levels[] = {"info", "warning", "error"};
    *out = -1; /* none */
    if (!value || strcmp(value, "none") == 0)
        return true;
    for (int i = 0; i < 3; i++)
        if (strcmp(value, levels[i]) == 0) {
            *out = i;
            return true;
        }
    fprintf(stderr, "dumptriage: --fail-on takes none, info, warning or error, not '%s'\n", value);
    return false;
}

static bool parse_color(const char *value, analyze_job *job)
{
    const char *no_color = getenv("NO_COLOR");
    bool tty = isatty(STDOUT_FILENO) && !job->output;
    if (!value || strcmp(value, "auto") == 0)
        job->color = tty && !(no_color && *no_color);
    else if (strcmp(value, "always") == 0 || strcmp(value, "never") == 0)
        job->color = value[0] == 'a';
    else {
        fprintf(stderr, "dumptriage: --color takes auto, always or never, not '%s'\n", value);
        return false;
    }
    return true;
}

static bool parse_paths(const cli_args *args, analyze_job *job)
{
    const cli_command *c = &cli_analyze_command;
    job->image_path_count = cli_values(c, args, "images", job->image_paths, ANALYZE_MAX_PATHS);
    job->symbol_path_count = cli_values(c, args, "symbols", job->symbol_paths, ANALYZE_MAX_PATHS);
    job->rule_path_count = cli_values(c, args, "rules", job->rule_paths, ANALYZE_MAX_PATHS);
    return true;
}

static bool parse_job(const cli_args *args, analyze_job *job)
{
    const cli_command *c = &cli_analyze_command;
    size_t jobs = default_jobs();
    job->output = cli_value(c, args, "output");
    job->summary = cli_value(c, args, "summary") != NULL;
    job->offline = cli_value(c, args, "offline") != NULL;
    job->wow64_native = cli_value(c, args, "wow64-native") != NULL;
    job->builtin_rules = cli_value(c, args, "no-builtin-rules") == NULL;
    job->progress = cli_value(c, args, "progress") || (isatty(STDERR_FILENO) && !getenv("CI"));
    if (!analyze_format(cli_value(c, args, "format"), &job->format) ||
        !parse_level(cli_value(c, args, "fail-on"), &job->fail_on) ||
        !cli_size("jobs", cli_value(c, args, "jobs"), &jobs) ||
        !cli_size("max-frames", cli_value(c, args, "max-frames"), &job->max_frames) ||
        !cli_size("time-budget", cli_value(c, args, "time-budget"), &job->time_budget_ms) ||
        !parse_color(cli_value(c, args, "color"), job) || !parse_paths(args, job))
        return false;
    job->jobs = (unsigned)jobs;
    if (args->positional_count == 0) {
        fprintf(stderr, "dumptriage analyze: expected at least one PATH\n");
        return false;
    }
    return true;
}

/* Loads the rules before any input is looked at, so that a rule file with
 * errors is a usage error (2), which comes before input errors (3) in the
 * exit status precedence. NULL after printing the errors. */
static dt_rule_set *load_rules(const analyze_job *job)
{
    dt_rule_set *rules = NULL;
    if (dt_rule_set_new(&rules) != DT_OK) {
        fprintf(stderr, "dumptriage: out of memory\n");
        return NULL;
    }
    if (job->builtin_rules)
        dt_rule_set_add_builtin(rules);
    for (size_t i = 0; i < job->rule_path_count; i++)
        dt_rule_set_add_path(rules, job->rule_paths[i]);
    size_t n;
    const dt_rule_error *errors = dt_rule_set_errors(rules, &n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "dumptriage: %s:%u:%u: %s\n", errors[i].file, errors[i].line,
                errors[i].column, errors[i].message);
    if (n) {
        dt_rule_set_free(rules);
        return NULL;
    }
    return rules;
}

static int run_analyze(int argc, char **argv)
{
    cli_args args;
    analyze_job job = {0};
    if (!cli_parse(&cli_analyze_command, argc, argv, &args))
        return EXIT_USAGE;
    if (cli_value(&cli_analyze_command, &args, "help")) {
        cli_print_command_help(&cli_analyze_command, stdout);
        return EXIT_OK;
    }
    dt_rule_set *rules = parse_job(&args, &job) ? load_rules(&job) : NULL;
    if (!rules)
        return EXIT_USAGE;
    input_list inputs;
    int code = EXIT_INPUT;
    if (collect_inputs((char **)args.positional, args.positional_count, &inputs)) {
        job.as_list = inputs.any_folder || inputs.count != 1;
        code = analyze_inputs(&job, &inputs, rules);
        input_list_free(&inputs);
    }
    dt_rule_set_free(rules);
    return code;
}
