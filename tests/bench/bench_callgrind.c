/* dt-bench: callgrind instruction counts of case 1 (exact from run to run,
 * unlike times on a shared machine). */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The "totals:" (or "summary:") line of a callgrind output file. */
static uint64_t callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    uint64_t total = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "totals:", 7) == 0 || (!total && strncmp(line, "summary:", 8) == 0))
            total = strtoull(line + (line[0] == 't' ? 7 : 8), NULL, 10);
    if (f)
        fclose(f);
    return total;
}

static uint64_t callgrind_one(const bench_config *c, const char *dump)
{
    char *out = bench_format("%s/callgrind.out", c->work);
    char *out_arg = bench_format("--callgrind-out-file=%s", out);
    char *log = bench_format("%s/callgrind.log", c->work);
    char *argv[] = {"/usr/bin/valgrind", "--tool=callgrind", "--dump-instr=no", out_arg,
                    (char *)c->tool, "analyze", "--format", "json", (char *)dump, NULL};
    bench_sample s;
    uint64_t total = bench_spawn(argv, log, &s) ? callgrind_total(out) : 0;
    unlink(out);
    unlink(log);
    free(out);
    free(out_arg);
    free(log);
    return total;
}

uint64_t bench_callgrind_case1(const bench_config *c)
{
    if (access("/usr/bin/valgrind", X_OK) != 0) {
        fputs("dt-bench: /usr/bin/valgrind is missing: no instruction counts\n", stderr);
        return 0;
    }
    bench_files files = {0};
    uint64_t sum = 0;
    bool ok = bench_fixture_minidumps(c, &files);
    printf("case 1 instructions: callgrind Ir of 'analyze --format json', whole process\n");
    for (size_t i = 0; ok && i < files.count; i++) {
        uint64_t n = callgrind_one(c, files.paths[i]);
        const char *slash = strrchr(files.paths[i], '/');
        printf("  %-34s %12" PRIu64 " Ir\n", slash ? slash + 1 : files.paths[i], n);
        ok = n > 0;
        sum += n;
    }
    if (ok)
        printf("  total %" PRIu64 " Ir over %zu fixture minidumps\n", sum, files.count);
    bench_files_free(&files);
    return ok ? sum : 0;
}
