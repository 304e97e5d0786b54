/* dt-bench: cases 1, 2, 3 and 5 and the start-up time (child processes). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_large.h"

static const double MIB = 1024.0 * 1024.0;

static void print_row(const char *label, uint64_t bytes, const bench_result *r)
{
    double mb = (double)bytes / MIB;
    printf("  %-34s %9.2f MiB  wall %8.2f ms  cpu %8.2f ms  rss %6.1f MiB  %9.1f MiB/s%s\n",
           label, mb, r->wall_ms, r->cpu_ms, r->rss_mb, r->wall_ms > 0 ? mb * 1e3 / r->wall_ms : 0,
           r->status == 0 ? "" : "  (exit status not 0)");
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool analyze(const bench_config *c, const char *path, bench_result *r)
{
    char *argv[] = {(char *)c->tool, "analyze", "--format", "json", (char *)path, NULL};
    return bench_measure(argv, c->runs, r);
}

/* Every dump of `files`; the median of the per-dump medians through *median. */
static bool analyze_each(const bench_config *c, const bench_files *files, double *median,
                         double *worst)
{
    double *walls = calloc(files->count + 1, sizeof *walls);
    bool ok = walls != NULL;
    *worst = 0;
    for (size_t i = 0; ok && i < files->count; i++) {
        bench_result r;
        ok = analyze(c, files->paths[i], &r);
        print_row(base_name(files->paths[i]), bench_file_size(files->paths[i]), &r);
        walls[i] = r.wall_ms;
        *worst = r.wall_ms > *worst ? r.wall_ms : *worst;
    }
    *median = bench_median(walls, files->count);
    free(walls);
    return ok;
}

bool bench_case_minidumps(const bench_config *c)
{
    printf("case 1: every minidump through 'dumptriage analyze --format json' (process start "
           "included), median of %d runs\n", c->runs);
    bench_files fixtures = {0}, corpus = {0};
    bool ok = bench_fixture_minidumps(c, &fixtures);
    double median = 0, worst = 0, corpus_median = 0, corpus_worst = 0;
    ok = ok && analyze_each(c, &fixtures, &median, &worst);
    printf("  fixtures: %zu minidumps, median %.2f ms, slowest %.2f ms\n", fixtures.count, median,
           worst);
    bench_corpus_minidumps(c, &corpus);
    if (ok && corpus.count) {
        ok = analyze_each(c, &corpus, &corpus_median, &corpus_worst);
        printf("  corpus: %zu minidumps, median %.2f ms, slowest %.2f ms\n", corpus.count,
               corpus_median, corpus_worst);
    }
    bench_target("fixture minidump median <= 2 ms", ok && median <= 2.0);
    bench_files_free(&fixtures);
    bench_files_free(&corpus);
    return ok;
}

/* ---- case 2 ------------------------------------------------------------------ */

static bool write_large(const char *path, uint64_t heap_bytes)
{
    synth_large_options o = {.thread_count = 256, .module_count = 150,
                             .heap_bytes = heap_bytes, .heap_ranges = 64};
    double start = bench_now_ms();
    if (synth_large_write(&o, path) != 0) {
        perror(path);
        return false;
    }
    printf("  wrote %s: %.0f MiB, %.1f MiB allocated on disk, in %.0f ms\n", base_name(path),
           (double)bench_file_size(path) / MIB, (double)bench_file_allocated(path) / MIB,
           bench_now_ms() - start);
    return true;
}

bool bench_case_large(const bench_config *c)
{
    printf("case 2: a sparse 4 GiB full dump (256 threads, 150 modules with their images in "
           "memory) and the same process at 1/16 the memory\n");
    char *big = bench_format("%s/large-4g.dmp", c->work);
    char *small = bench_format("%s/large-256m.dmp", c->work);
    bench_result rb, rs;
    bool ok = write_large(big, 4ull << 30) && write_large(small, 256ull << 20) &&
              analyze(c, big, &rb) && analyze(c, small, &rs);
    if (ok) {
        print_row("large-4g.dmp", bench_file_size(big), &rb);
        print_row("large-256m.dmp", bench_file_size(small), &rs);
        double ratio = rs.wall_ms > 0 ? rb.wall_ms / rs.wall_ms : 0;
        printf("  4 GiB / 256 MiB wall time: %.2fx\n", ratio);
        bench_target("4 GiB dump <= 50 ms", rb.wall_ms <= 50);
        bench_target("4 GiB dump peak RSS <= 40 MiB", rb.rss_mb <= 40);
        bench_target("4 GiB dump <= 1.5x the 256 MiB dump", ratio <= 1.5);
    }
    free(big);
    free(small);
    return ok;
}

/* ---- case 3 ------------------------------------------------------------------ */

static double folder_rate(const bench_config *c, const char *dir, size_t count, const char *jobs)
{
    char *argv[] = {(char *)c->tool, "analyze", "--format", "json", "--jobs", (char *)jobs,
                    (char *)dir, NULL};
    bench_result r;
    int runs = c->runs < 5 ? c->runs : 5;
    if (!bench_measure(argv, runs, &r))
        return 0;
    double rate = (double)count * 1e3 / r.wall_ms;
    printf("  --jobs %s: wall %.0f ms, cpu %.0f ms, rss %.1f MiB, %.0f dumps/s%s\n", jobs,
           r.wall_ms, r.cpu_ms, r.rss_mb, rate, r.status == 0 ? "" : " (exit status not 0)");
    return rate;
}

/* What this machine gives two workers that share nothing: two --jobs 1
 * processes at once, each on half of the folder. */
static double two_process_rate(const bench_config *c, const char *dir, size_t count)
{
    char *halves[2] = {bench_format("%s-half-a", dir), bench_format("%s-half-b", dir)};
    bool ok = bench_link_half(halves[0], dir, count, 0) &&
              bench_link_half(halves[1], dir, count, 1);
    char *first[] = {(char *)c->tool, "analyze", "--format", "json", "--jobs", "1", halves[0],
                     NULL};
    char *second[] = {(char *)c->tool, "analyze", "--format", "json", "--jobs", "1", halves[1],
                      NULL};
    int runs = c->runs < 5 ? c->runs : 5;
    double wall[5];
    for (int i = 0; ok && i < runs; i++)
        ok = bench_spawn_pair(first, second, &wall[i]);
    double rate = ok ? (double)count * 1e3 / bench_median(wall, (size_t)runs) : 0;
    if (ok)
        printf("  two --jobs 1 processes at once, one per half: %.0f dumps/s\n", rate);
    for (int h = 0; h < 2; h++) {
        bench_remove_tree(halves[h]);
        free(halves[h]);
    }
    return rate;
}

bool bench_case_folder(const bench_config *c)
{
    size_t count = c->quick ? 200 : 2000;
    printf("case 3: a folder of %zu minidumps (links to the fixture minidumps and the synthetic "
           "scenarios' mini and full dumps)\n", count);
    bench_files sources = {0};
    char *dir = bench_format("%s/folder", c->work);
    bool ok = bench_fixture_minidumps(c, &sources) && bench_scenario_dumps(c, &sources) &&
              bench_link_folder(dir, &sources, count);
    double one = ok ? folder_rate(c, dir, count, "1") : 0;
    double two = ok ? folder_rate(c, dir, count, "2") : 0;
    double ceiling = ok ? two_process_rate(c, dir, count) : 0;
    if (ok) {
        printf("  2 jobs / 1 job: %.2fx; two processes / 1 job: %.2fx (the machine's ceiling "
               "for two workers)\n", one > 0 ? two / one : 0, one > 0 ? ceiling / one : 0);
        bench_target(">= 1000 dumps/s with 2 jobs", two >= 1000);
        if (c->quick) /* 200 dumps take under 0.1 s: a ratio of such runs is noise */
            printf("  target 2 jobs >= 1.8x 1 job: not judged in --quick mode\n");
        else
            bench_target("2 jobs >= 1.8x 1 job", one > 0 && two / one >= 1.8);
    }
    bench_remove_tree(dir);
    free(dir);
    bench_files_free(&sources);
    return ok && one > 0 && two > 0;
}

/* ---- case 5 ------------------------------------------------------------------ */

/* ISIZE: the inflated size mod 2^32 from the gzip trailer. */
static uint64_t gzip_inflated_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char b[4] = {0};
    bool ok = f && fseek(f, -4, SEEK_END) == 0 && fread(b, 1, 4, f) == 4;
    if (f)
        fclose(f);
    return ok ? (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24
              : 0;
}

bool bench_case_gzip(const bench_config *c)
{
    char *path = bench_format("%s/fixtures/dumps/cs_contention.full.dmp.gz", c->source_dir);
    uint64_t inflated = gzip_inflated_size(path);
    printf("case 5: .dmp.gz input (%s, %.1f MiB inflated) against gzip -dc\n", base_name(path),
           (double)inflated / MIB);
    char *gzip[] = {"/usr/bin/gzip", "-dc", path, NULL};
    char *info[] = {(char *)c->tool, "info", "--format", "json", path, NULL};
    char *full[] = {(char *)c->tool, "analyze", "--format", "json", path, NULL};
    bench_result rg, ri, ra;
    int runs = c->runs < 9 ? c->runs : 9;
    bool ok = bench_measure(gzip, runs, &rg) && bench_measure(info, runs, &ri) &&
              bench_measure(full, runs, &ra);
    if (ok) {
        print_row("gzip -dc > /dev/null", inflated, &rg);
        print_row("dumptriage info", inflated, &ri);
        print_row("dumptriage analyze", inflated, &ra);
        printf("  info / gzip -dc wall time: %.2fx\n", ri.wall_ms / rg.wall_ms);
        bench_target("info within 10% of gzip -dc", ri.wall_ms <= rg.wall_ms * 1.1);
    }
    free(path);
    return ok;
}

/* ---- start-up ------------------------------------------------------------------ */

void bench_startup(const bench_config *c)
{
    printf("start-up: time to main and back ('dumptriage --version'), median of %d runs\n",
           c->runs * 4);
    char *version[] = {(char *)c->tool, "--version", NULL};
    char *floor[] = {"/bin/true", NULL};
    bench_result rv, rt;
    if (bench_measure(version, c->runs * 4, &rv) && bench_measure(floor, c->runs * 4, &rt)) {
        print_row("dumptriage --version", 0, &rv);
        print_row("/bin/true (process floor)", 0, &rt);
    }
}
