/* dt-bench: options, the cases in order, the instruction-count baseline. */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Growth of case 1's instruction count over the baseline that fails --check. */
static const double ALLOWED_GROWTH = 1.20;

typedef struct options {
    bench_config config;
    const char *check;       /* baseline file to compare with */
    const char *write;       /* baseline file to write */
    bool keep;
} options;

static void usage(FILE *to)
{
    fputs("usage: dt-bench [--quick] [--runs N] [--case N]... [--work DIR | --keep]\n"
          "                [--check BASELINE] [--write-baseline BASELINE]\n"
          "                [--dumptriage PATH] [--source DIR] [--shared DIR]\n"
          "Runs the cases of docs/performance.md (all unless --case is given): 1 fixture\n"
          "minidumps, 2 a sparse 4 GiB full dump, 3 a folder of minidumps, 4 symbol\n"
          "files, 5 .dmp.gz input; then the start-up time. The work directory is a new\n"
          "/tmp/dt-bench-XXXXXX, removed at the end unless --keep; a --work DIR is kept.\n"
          "--check fails (exit 1) when the callgrind instruction count of case 1 grew\n"
          "more than 20% over BASELINE.\n",
          to);
}

static bool parse_value(int argc, char **argv, int *i, options *o)
{
    const char *name = argv[*i], *value = *i + 1 < argc ? argv[++*i] : NULL;
    bench_config *c = &o->config;
    if (!value)
        return false;
    if (strcmp(name, "--runs") == 0)
        return (c->runs = atoi(value)) > 0;
    if (strcmp(name, "--case") == 0) {
        int n = atoi(value);
        return n >= 1 && n <= 5 && (c->cases[n] = true);
    }
    const char **slot = strcmp(name, "--work") == 0 ? &c->work
                        : strcmp(name, "--check") == 0 ? &o->check
                        : strcmp(name, "--write-baseline") == 0 ? &o->write
                        : strcmp(name, "--dumptriage") == 0 ? &c->tool
                        : strcmp(name, "--source") == 0 ? &c->source_dir
                        : strcmp(name, "--shared") == 0 ? &c->shared_dir : NULL;
    if (slot)
        *slot = value;
    return slot != NULL;
}

static bool parse(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            o->config.quick = true;
        else if (strcmp(argv[i], "--keep") == 0)
            o->keep = true;
        else if (!parse_value(argc, argv, &i, o))
            return false;
    }
    bool any = false;
    for (int n = 1; n <= 5; n++)
        any |= o->config.cases[n];
    for (int n = 1; n <= 5 && !any; n++)
        o->config.cases[n] = true;
    if (!o->config.runs)
        o->config.runs = o->config.quick ? 5 : 21;
    return true;
}

static void print_machine(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256], model[256] = "unknown";
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    printf("machine: %ld cores online, %.1f GiB memory, CPU %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           (double)pages * (double)page / (1024.0 * 1024 * 1024), model);
}

static uint64_t read_baseline(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    uint64_t value = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "case1_instructions ", 19) == 0)
            value = strtoull(line + 19, NULL, 10);
    if (f)
        fclose(f);
    return value;
}

static bool write_baseline(const char *path, uint64_t total)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "# Callgrind instructions (Ir) of 'dumptriage analyze --format json' summed over\n"
               "# the fixture minidumps, process start included (dt-bench case 1). CI fails\n"
               "# when a build exceeds this by more than 20%%. Update: see docs/performance.md.\n"
               "case1_instructions %" PRIu64 "\n", total);
    return fclose(f) == 0;
}

/* --check and --write-baseline; false when the check fails. */
static bool instruction_counts(const options *o)
{
    uint64_t total = bench_callgrind_case1(&o->config);
    if (!total)
        return false;
    if (o->write && !write_baseline(o->write, total)) {
        perror(o->write);
        return false;
    }
    if (!o->check)
        return true;
    uint64_t base = read_baseline(o->check);
    double growth = base ? (double)total / (double)base : 0;
    printf("  baseline %" PRIu64 " Ir (%s): %+.1f%%\n", base, o->check, (growth - 1) * 100);
    bench_target("case 1 instructions at most 20% over the baseline",
                 base && growth <= ALLOWED_GROWTH);
    return base && growth <= ALLOWED_GROWTH;
}

static bool run_cases(const bench_config *c)
{
    static bool (*const cases[])(const bench_config *) = {
        NULL, bench_case_minidumps, bench_case_large, bench_case_folder, bench_case_symbols,
        bench_case_gzip};
    bool ok = true;
    for (int n = 1; n <= 5; n++) {
        if (!c->cases[n])
            continue;
        bool done = cases[n](c);
        ok &= done;
        if (!done)
            fprintf(stderr, "dt-bench: case %d could not run\n", n);
        fflush(stdout);
    }
    bench_startup(c);
    return ok;
}

int main(int argc, char **argv)
{
    options o = {.config = {.tool = DT_BENCH_TOOL, .source_dir = DT_SOURCE_DIR,
                            .shared_dir = DT_SHARED_DIR}};
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    char work_template[] = "/tmp/dt-bench-XXXXXX";
    bool temporary = !o.config.work;
    if (temporary && !(o.config.work = mkdtemp(work_template))) {
        perror("dt-bench: mkdtemp");
        return 2;
    }
    if (!bench_make_dir(o.config.work))
        return 2;
    print_machine();
    bool ok = run_cases(&o.config);
    bool counted = !(o.check || o.write) || instruction_counts(&o);
    if (temporary && !o.keep)
        bench_remove_tree(o.config.work);
    return !counted ? 1 : ok ? 0 : 3;
}
