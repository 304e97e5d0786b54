/* dumptriage rules list|show|check|test: the rule engine's commands. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dumptriage/rules.h"

enum { MAX_PATHS = 32 };

static const cli_option set_options[] = {
    {"rules", 'r', "PATH", "also load rule files: a .yaml file or a folder of them", true},
    {"no-builtin-rules", 0, NULL, "leave out the built-in rules", false},
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static const cli_option check_options[] = {
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static const cli_option test_options[] = {
    {"images", 'i', "PATH", "where module images are: a directory, a symbol store, or "
                            "srv*CACHE*URL; also read from _NT_EXECUTABLE_IMAGE_PATH", true},
    {"symbols", 's', "PATH", "where symbols are (PDB, Breakpad .sym): a directory, a symbol "
                             "store, srv*CACHE*URL or cache*DIR; also _NT_SYMBOL_PATH", true},
    {"offline", 0, NULL, "never download from symbol servers (srv* entries)", false},
    {"rule", 0, "ID", "test only this rule of FILE", false},
    {"help", 'h', NULL, "show this help", false},
    {NULL, 0, NULL, NULL, false},
};

static int run_rules(int argc, char **argv);
static int run_list(int argc, char **argv);
static int run_show(int argc, char **argv);
static int run_check(int argc, char **argv);
static int run_test(int argc, char **argv);

const cli_command cli_rules_command = {
    "rules", "list|show|check|test ...",
    "Work with the rules that turn a dump's stacks and facts into findings:\n"
    "  rules list               every rule: id, severity, title\n"
    "  rules show ID            one rule: its text and its YAML\n"
    "  rules check FILE...      validate rule files (errors with line and column)\n"
    "  rules test FILE DUMP     evaluate FILE's rules against DUMP, step by step\n"
    "The rule language is described in docs/rules.md.",
    check_options, run_rules};

static const cli_command list_command = {
    "rules list", "[--rules PATH]... [--no-builtin-rules]",
    "List every rule: id, severity, title and where it is defined.", set_options, run_list};

static const cli_command show_command = {
    "rules show", "ID [--rules PATH]... [--no-builtin-rules]",
    "Show one rule: title, severity, summary, explanation, advice, references and\n"
    "its YAML source.", set_options, run_show};

static const cli_command check_command = {
    "rules check", "FILE...",
    "Validate rule files (or folders of *.yaml files) on their own, without the\n"
    "built-in rules. Errors name the file, line and column. Exit status: 0 all\n"
    "valid, 1 a file is invalid, 2 usage error.", check_options, run_check};

static const cli_command test_command = {
    "rules test", "FILE DUMP [--rule ID] [--images PATH]... [--symbols PATH]... [--offline]",
    "Evaluate the rules of FILE (a rule file, or the id of a built-in rule)\n"
    "against DUMP and show every step: which frames and facts matched and which\n"
    "condition failed. Exit status: 0 a rule matched, 1 none matched, 2 usage\n"
    "error, 3 the rules or the dump could not be read.", test_options, run_test};

/* ---- Shared --------------------------------------------------------------- */

/* Parses argv; returns -1 to go on, or the exit code (help shown, bad usage). */
static int parse_command(const cli_command *command, int argc, char **argv, cli_args *args)
{
    if (!cli_parse(command, argc, argv, args))
        return EXIT_USAGE;
    if (cli_value(command, args, "help")) {
        cli_print_command_help(command, stdout);
        return EXIT_OK;
    }
    return -1;
}

static void print_errors(const dt_rule_set *set, FILE *to)
{
    size_t count;
    const dt_rule_error *errors = dt_rule_set_errors(set, &count);
    for (size_t i = 0; i < count; i++) {
        if (errors[i].line)
            fprintf(to, "%s:%u:%u: %s\n", errors[i].file, errors[i].line, errors[i].column,
                    errors[i].message);
        else
            fprintf(to, "%s: %s\n", errors[i].file, errors[i].message);
    }
}

/* The built-in rules (unless --no-builtin-rules) and every --rules PATH. */
static dt_rule_set *load_set(const cli_command *command, const cli_args *args)
{
    dt_rule_set *set;
    if (dt_rule_set_new(&set) != DT_OK) {
        fprintf(stderr, "dumptriage: out of memory\n");
        return NULL;
    }
    dt_status status = DT_OK;
    if (!cli_value(command, args, "no-builtin-rules"))
        status = dt_rule_set_add_builtin(set);
    const char *paths[MAX_PATHS];
    size_t count = cli_values(command, args, "rules", paths, MAX_PATHS);
    for (size_t i = 0; i < count && status != DT_ERR_NOMEM; i++) {
        dt_status added = dt_rule_set_add_path(set, paths[i]);
        status = status == DT_OK ? added : status;
    }
    if (status == DT_OK)
        return set;
    print_errors(set, stderr);
    dt_rule_set_free(set);
    return NULL;
}

/* ---- list, show --------------------------------------------------------------- */

static int run_list(int argc, char **argv)
{
    cli_args args;
    int done = parse_command(&list_command, argc, argv, &args);
    if (done >= 0)
        return done;
    if (args.positional_count != 0) {
        fprintf(stderr, "dumptriage rules list: takes no arguments\n");
        return EXIT_USAGE;
    }
    dt_rule_set *set = load_set(&list_command, &args);
    if (!set)
        return EXIT_INPUT;
    for (size_t i = 0; i < dt_rule_set_count(set); i++) {
        dt_rule_info info;
        dt_rule_set_info(set, i, &info);
        printf("%-36s %-8s %s  (%s:%u)\n", info.id, dt_severity_name(info.severity),
               info.title, info.file, info.line);
    }
    dt_rule_set_free(set);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_INPUT;
}

static void print_rule(const dt_rule_info *info)
{
    printf("%s: %s\n", info->id, info->title);
    printf("  severity:    %s\n  defined at:  %s:%u\n", dt_severity_name(info->severity),
           info->file, info->line);
    if (info->analyzer)
        printf("  analyzer:    %s\n", info->analyzer);
    printf("  summary:     %s\n", info->summary);
    if (info->explanation)
        printf("  explanation: %s\n", info->explanation);
    if (info->advice)
        printf("  advice:      %s\n", info->advice);
    for (size_t i = 0; i < info->reference_count; i++)
        printf("  reference:   %s\n", info->references[i]);
    printf("\n%s\n", info->source);
}

static int run_show(int argc, char **argv)
{
    cli_args args;
    int done = parse_command(&show_command, argc, argv, &args);
    if (done >= 0)
        return done;
    if (args.positional_count != 1) {
        fprintf(stderr, "dumptriage rules show: expected one rule ID\n");
        return EXIT_USAGE;
    }
    dt_rule_set *set = load_set(&show_command, &args);
    if (!set)
        return EXIT_INPUT;
    size_t index;
    dt_rule_info info;
    bool found = dt_rule_set_find(set, args.positional[0], &index) &&
                 dt_rule_set_info(set, index, &info);
    if (found)
        print_rule(&info);
    else
        fprintf(stderr, "dumptriage rules show: no rule '%s'\n", args.positional[0]);
    dt_rule_set_free(set);
    return found ? EXIT_OK : EXIT_USAGE;
}

/* ---- check -------------------------------------------------------------------- */

static bool check_one(const char *path)
{
    dt_rule_set *set;
    if (dt_rule_set_new(&set) != DT_OK) {
        fprintf(stderr, "dumptriage: out of memory\n");
        return false;
    }
    bool valid = dt_rule_set_add_path(set, path) == DT_OK;
    if (valid)
        printf("%s: %zu rules, valid\n", path, dt_rule_set_count(set));
    else
        print_errors(set, stdout);
    dt_rule_set_free(set);
    return valid;
}

static int run_check(int argc, char **argv)
{
    cli_args args;
    int done = parse_command(&check_command, argc, argv, &args);
    if (done >= 0)
        return done;
    if (args.positional_count == 0) {
        fprintf(stderr, "dumptriage rules check: expected one or more FILE arguments\n");
        return EXIT_USAGE;
    }
    bool valid = true;
    for (int i = 0; i < args.positional_count; i++)
        valid &= check_one(args.positional[i]);
    fflush(stdout);
    return valid ? EXIT_OK : EXIT_FINDINGS;
}

/* ---- test ------------------------------------------------------------------------ */

typedef struct test_job {
    const char *rule_id;
    bool offline;
    const char *image_paths[MAX_PATHS];
    size_t image_path_count;
    const char *symbol_paths[MAX_PATHS];
    size_t symbol_path_count;
} test_job;

/* FILE is a rule file, or the id of a built-in rule when no such file exists. */
static dt_rule_set *load_test_rules(const char *file, test_job *job)
{
    dt_rule_set *set;
    if (dt_rule_set_new(&set) != DT_OK)
        return NULL;
    struct stat st;
    bool builtin_id = stat(file, &st) != 0 && !strchr(file, '/');
    dt_status status = builtin_id ? dt_rule_set_add_builtin(set) : dt_rule_set_add_path(set, file);
    if (builtin_id && !job->rule_id)
        job->rule_id = file;
    if (status != DT_OK)
        print_errors(set, stderr);
    if (status != DT_OK || (builtin_id && !dt_rule_set_find(set, file, &(size_t){0}))) {
        if (status == DT_OK)
            fprintf(stderr, "dumptriage rules test: no file or built-in rule '%s'\n", file);
        dt_rule_set_free(set);
        return NULL;
    }
    return set;
}

static void print_step(const dt_trace_step *step)
{
    printf("%*s[%s] %s (line %u, column %u)\n", (int)(2 + 2 * step->depth), "",
           step->held ? "yes" : "no ", step->what, step->line, step->column);
    const char *line = step->detail;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        printf("%*s%.*s\n", (int)(8 + 2 * step->depth), "", (int)length, line);
        line = end ? end + 1 : NULL;
    }
}

static void print_finding(const dt_finding *f)
{
    printf("  %s %s: %s\n", dt_severity_name(f->severity), f->rule_id, f->summary);
    if (f->thread_id_count) {
        printf("    threads:");
        for (size_t i = 0; i < f->thread_id_count; i++)
            printf(" %u", f->thread_ids[i]);
        printf("\n");
    }
    for (size_t i = 0; i < f->variable_count; i++)
        printf("    {%s} = %s\n", f->variables[i].name, f->variables[i].value);
}

/* Explains one rule; returns whether it produced a finding, -1 on failure. */
static int explain_rule(const dt_rule_set *set, size_t index, const dt_rule_input *input)
{
    dt_rule_trace *trace;
    if (dt_rules_explain(&trace, set, index, input) != DT_OK)
        return -1;
    dt_rule_info info;
    dt_rule_set_info(set, index, &info);
    printf("Rule %s (%s:%u)\n", info.id, info.file, info.line);
    size_t steps, findings;
    const dt_trace_step *step = dt_rule_trace_steps(trace, &steps);
    for (size_t i = 0; i < steps; i++)
        print_step(&step[i]);
    const dt_finding *f = dt_rule_trace_findings(trace, &findings);
    printf("Result: %s, %zu finding%s\n", findings ? "matched" : "not matched", findings,
           findings == 1 ? "" : "s");
    for (size_t i = 0; i < findings; i++)
        print_finding(&f[i]);
    printf("\n");
    dt_rule_trace_free(trace);
    return findings > 0;
}

static int explain_rules(const dt_rule_set *set, const test_job *job, const dt_rule_input *input)
{
    size_t only = 0;
    if (job->rule_id && !dt_rule_set_find(set, job->rule_id, &only)) {
        fprintf(stderr, "dumptriage rules test: no rule '%s' in the file\n", job->rule_id);
        return EXIT_USAGE;
    }
    bool matched = false;
    for (size_t i = 0; i < dt_rule_set_count(set); i++) {
        if (job->rule_id && i != only)
            continue;
        int result = explain_rule(set, i, input);
        if (result < 0) {
            fprintf(stderr, "dumptriage: out of memory\n");
            return EXIT_INPUT;
        }
        matched |= result > 0;
    }
    return matched ? EXIT_OK : EXIT_FINDINGS;
}

/* Walks, names and analyzes the dump's threads, then explains the rules. */
static int test_with_stacks(const dt_rule_set *set, const test_job *job, const dt_dump *dump,
                            dt_image_set *images, dt_symbolizer *symbols)
{
    dt_walk_options walk = {.images = images};
    dt_stacks *stacks = NULL;
    dt_analysis *analysis = NULL;
    int code = EXIT_INPUT;
    if (dt_walk_threads(&stacks, dump, &walk) == DT_OK &&
        dt_stacks_symbolize(stacks, symbols) == DT_OK &&
        dt_analyze_process(&analysis, dump, stacks) == DT_OK) {
        dt_rule_input input;
        dt_rule_input_from(&input, dump, stacks, analysis);
        code = explain_rules(set, job, &input);
    } else {
        fprintf(stderr, "dumptriage: out of memory\n");
    }
    dt_analysis_free(analysis);
    dt_stacks_free(stacks);
    return code;
}

static int test_dump(const dt_rule_set *set, const test_job *job, const dt_dump *dump)
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
    int code = EXIT_INPUT;
    if (symbols)
        code = test_with_stacks(set, job, dump, images, symbols);
    else
        fprintf(stderr, "dumptriage: %s\n", err.message[0] ? err.message : "out of memory");
    dt_symbolizer_free(symbols);
    dt_image_set_free(images);
    return code;
}

static bool parse_test_job(const cli_args *args, test_job *job)
{
    const cli_command *c = &test_command;
    job->rule_id = cli_value(c, args, "rule");
    job->offline = cli_value(c, args, "offline") != NULL;
    job->image_path_count = cli_values(c, args, "images", job->image_paths, MAX_PATHS);
    job->symbol_path_count = cli_values(c, args, "symbols", job->symbol_paths, MAX_PATHS);
    if (args->positional_count != 2) {
        fprintf(stderr, "dumptriage rules test: expected FILE and DUMP arguments\n");
        return false;
    }
    return true;
}

static int run_test(int argc, char **argv)
{
    cli_args args;
    test_job job = {0};
    int done = parse_command(&test_command, argc, argv, &args);
    if (done >= 0)
        return done;
    if (!parse_test_job(&args, &job))
        return EXIT_USAGE;
    dt_rule_set *set = load_test_rules(args.positional[0], &job);
    if (!set)
        return EXIT_INPUT;
    dt_dump *dump;
    dt_error err = {0};
    int code = EXIT_INPUT;
    if (dt_dump_open(&dump, args.positional[1], NULL, &err) == DT_OK) {
        code = test_dump(set, &job, dump);
        dt_dump_free(dump);
    } else {
        fprintf(stderr, "dumptriage: %s\n", err.message);
    }
    dt_rule_set_free(set);
    fflush(stdout);
    return code;
}

/* ---- rules ---------------------------------------------------------------------- */

static int run_rules(int argc, char **argv)
{
    static const cli_command *const subcommands[] = {&list_command, &show_command,
                                                     &check_command, &test_command};
    if (argc == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        cli_print_command_help(&cli_rules_command, argc ? stdout : stderr);
        return argc ? EXIT_OK : EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(subcommands[i]->name + strlen("rules "), argv[0]) == 0)
            return subcommands[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "dumptriage rules: unknown subcommand '%s'\nTry 'dumptriage rules --help'.\n",
            argv[0]);
    return EXIT_USAGE;
}
