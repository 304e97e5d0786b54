/* dt-bench: the inputs (fixture and corpus dumps, synthetic scenarios, a
 * folder of links, a generated .sym file). */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "scenarios.h"

void bench_files_add(bench_files *files, char *path)
{
    char **grown = realloc(files->paths, (files->count + 1) * sizeof *grown);
    if (!grown) {
        fputs("dt-bench: out of memory\n", stderr);
        exit(2);
    }
    files->paths = grown;
    files->paths[files->count++] = path;
}

void bench_files_free(bench_files *files)
{
    for (size_t i = 0; i < files->count; i++)
        free(files->paths[i]);
    free(files->paths);
    *files = (bench_files){0};
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_files(bench_files *files)
{
    if (files->count)
        qsort(files->paths, files->count, sizeof *files->paths, compare_paths);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool inflate_file(const char *from, const char *to)
{
    gzFile in = gzopen(from, "rb");
    FILE *out = fopen(to, "wb");
    char buf[1 << 16];
    int n = 0;
    bool ok = in && out;
    while (ok && (n = gzread(in, buf, sizeof buf)) > 0)
        ok = fwrite(buf, 1, (size_t)n, out) == (size_t)n;
    ok = ok && n == 0;
    if (in)
        gzclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "dt-bench: cannot inflate %s to %s\n", from, to);
    return ok;
}

bool bench_fixture_minidumps(const bench_config *c, bench_files *out)
{
    char *dumps = bench_format("%s/fixtures/dumps", c->source_dir);
    char *dest = bench_format("%s/fixtures", c->work);
    DIR *dir = opendir(dumps);
    bool ok = dir && bench_make_dir(dest);
    for (struct dirent *e; ok && (e = readdir(dir));) {
        if (!ends_with(e->d_name, ".mini.dmp.gz"))
            continue;
        char *from = bench_format("%s/%s", dumps, e->d_name);
        char *to = bench_format("%s/%.*s", dest, (int)(strlen(e->d_name) - 3), e->d_name);
        ok = bench_file_size(to) || inflate_file(from, to);
        free(from);
        bench_files_add(out, to);
    }
    if (dir)
        closedir(dir);
    free(dumps);
    free(dest);
    sort_files(out);
    return ok && out->count > 0;
}

static bench_files *corpus_list;

static int corpus_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_F && ends_with(path, ".dmp"))
        bench_files_add(corpus_list, bench_format("%s", path));
    return 0;
}

void bench_corpus_minidumps(const bench_config *c, bench_files *out)
{
    char *root = bench_format("%s/corpus", c->shared_dir);
    corpus_list = out;
    if (access(root, R_OK) == 0)
        nftw(root, corpus_visit, 16, FTW_PHYS);
    corpus_list = NULL;
    free(root);
    sort_files(out);
}

bool bench_scenario_dumps(const bench_config *c, bench_files *out)
{
    char *root = bench_format("%s/synth", c->work);
    bool ok = bench_make_dir(root);
    for (size_t i = 0; ok && i < synth_scenario_count(); i++) {
        const synth_scenario *s = synth_scenario_at(i);
        if (!s->build)
            continue;
        char *mini = bench_format("%s/%s/mini.dmp", root, s->name);
        ok = bench_file_size(mini) || synth_scenario_write(s, root) == 0;
        bench_files_add(out, mini);
        bench_files_add(out, bench_format("%s/%s/full.dmp", root, s->name));
    }
    if (!ok)
        fprintf(stderr, "dt-bench: cannot write the scenarios: %s\n", strerror(errno));
    free(root);
    return ok;
}

bool bench_link_folder(const char *dir, const bench_files *sources, size_t count)
{
    bool ok = sources->count > 0 && bench_make_dir(dir);
    for (size_t i = 0; ok && i < count; i++) {
        char *to = bench_format("%s/%05zu.dmp", dir, i);
        ok = link(sources->paths[i % sources->count], to) == 0 || errno == EEXIST;
        if (!ok)
            fprintf(stderr, "dt-bench: cannot link %s: %s\n", to, strerror(errno));
        free(to);
    }
    return ok;
}

bool bench_link_half(const char *half, const char *dir, size_t count, int which)
{
    bool ok = bench_make_dir(half);
    for (size_t i = (size_t)which; ok && i < count; i += 2) {
        char *from = bench_format("%s/%05zu.dmp", dir, i);
        char *to = bench_format("%s/%05zu.dmp", half, i);
        ok = link(from, to) == 0 || errno == EEXIST;
        if (!ok)
            fprintf(stderr, "dt-bench: cannot link %s: %s\n", to, strerror(errno));
        free(from);
        free(to);
    }
    return ok;
}

/* ---- A generated Breakpad .sym file ---------------------------------------- */

enum { SYM_FILES = 1000, SYM_FUNC_SPACING = 0x100, SYM_LINES = 8, SYM_FIRST_RVA = 0x1000 };

static void sym_function(FILE *f, size_t i)
{
    unsigned rva = SYM_FIRST_RVA + (unsigned)i * SYM_FUNC_SPACING;
    fprintf(f, "FUNC %x %x 10 bench::Module%zu::Function%zu(int, char const*)\n", rva,
            SYM_FUNC_SPACING, i % 97, i);
    for (unsigned k = 0; k < SYM_LINES; k++)
        fprintf(f, "%x 20 %zu %zu\n", rva + k * 0x20, 10 + i % 5000 + k, i % SYM_FILES);
}

static void sym_cfi(FILE *f, size_t i)
{
    unsigned rva = SYM_FIRST_RVA + (unsigned)i * SYM_FUNC_SPACING;
    fprintf(f, "STACK CFI INIT %x %x .cfa: $rsp 8 + .ra: .cfa -8 + ^\n", rva, SYM_FUNC_SPACING);
    fprintf(f, "STACK CFI %x .cfa: $rsp 16 +\n", rva + 1);
}

size_t bench_write_sym(const char *path, uint64_t bytes)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fputs("MODULE windows x86_64 0123456789ABCDEF0123456789ABCDEF1 big.pdb\n"
          "INFO CODE_ID 5B0000001000000 big.dll\n", f);
    for (size_t i = 0; i < SYM_FILES; i++)
        fprintf(f, "FILE %zu c:\\src\\bench\\module%zu\\file%zu.cpp\n", i, i % 97, i);
    size_t count = 0;
    while ((uint64_t)ftell(f) < bytes * 2 / 3)
        sym_function(f, count++);
    for (size_t i = 0; i < count; i += 64)
        fprintf(f, "PUBLIC %x 0 bench_public_%zu\n", SYM_FIRST_RVA + (unsigned)i * 0x100, i);
    for (size_t i = 0; i < count && (uint64_t)ftell(f) < bytes; i++)
        sym_cfi(f, i);
    return fclose(f) == 0 ? count : 0;
}
