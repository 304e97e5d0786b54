/* dt-bench case 4: symbol files, in-process: time to the first lookup and
 * per lookup for a generated Breakpad .sym and the corpus PDBs. */
#include "bench.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumptriage/symbols.h"

enum { LOOKUPS = 200000 };

static const double MIB = 1024.0 * 1024.0;

/* A deterministic RVA stream (xorshift) over [first, first + span). */
static uint32_t next_rva(uint64_t *state, uint32_t first, uint32_t span)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return first + (uint32_t)(*state % span);
}

static void report(const char *label, uint64_t bytes, double open_ms, double first_ms,
                   double per_lookup_ns, size_t hits)
{
    double mb = (double)bytes / MIB, total = open_ms + first_ms;
    printf("  %-30s %8.1f MiB  open %8.2f ms  first lookup %7.3f ms  (%7.0f MiB/s)  "
           "%6.0f ns/lookup, %zu/%d found\n", label, mb, open_ms, first_ms,
           total > 0 ? mb * 1e3 / total : 0, per_lookup_ns, hits, LOOKUPS);
}

static bool bench_sym(const char *path, size_t functions)
{
    double t0 = bench_now_ms();
    dt_sym_file *sym;
    dt_error err;
    if (dt_sym_open(&sym, path, &err) != DT_OK) {
        fprintf(stderr, "dt-bench: %s\n", err.message);
        return false;
    }
    double t1 = bench_now_ms();
    dt_symbol s;
    dt_sym_lookup(sym, 0x1010, &s);
    double t2 = bench_now_ms();
    uint64_t state = 88172645463325252ull;
    size_t hits = 0;
    for (int i = 0; i < LOOKUPS; i++)
        hits += dt_sym_lookup(sym, next_rva(&state, 0x1000, (uint32_t)functions * 0x100), &s);
    double t3 = bench_now_ms();
    report("generated.sym", bench_file_size(path), t1 - t0, t2 - t1, (t3 - t2) * 1e6 / LOOKUPS,
           hits);
    double mib_per_s = (double)bench_file_size(path) / MIB * 1e3 / (t2 - t0);
    bench_target(".sym open + first lookup >= 300 MB/s", mib_per_s * MIB / 1e6 >= 300);
    dt_sym_free(sym);
    return true;
}

/* Bytes of `path` in the page cache: after dropping it before the run, what
 * the run read (kernel read-ahead included). */
static uint64_t resident_bytes(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t size = bench_file_size(path), resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    void *map = fd >= 0 && size ? mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    size_t pages = (size_t)((size + (uint64_t)page - 1) / (uint64_t)page);
    unsigned char *vec = map != MAP_FAILED ? malloc(pages) : NULL;
    if (vec && mincore(map, size, vec) == 0)
        for (size_t i = 0; i < pages; i++)
            resident += (vec[i] & 1) ? (uint64_t)page : 0;
    free(vec);
    if (map != MAP_FAILED)
        munmap(map, size);
    if (fd >= 0)
        close(fd);
    return resident;
}

static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

static void bench_pdb(const char *path)
{
    drop_cache(path);
    uint64_t cached_before = resident_bytes(path);
    double t0 = bench_now_ms();
    dt_pdb *pdb;
    dt_error err;
    if (dt_pdb_open(&pdb, path, &err) != DT_OK) {
        fprintf(stderr, "dt-bench: %s\n", err.message);
        return;
    }
    double t1 = bench_now_ms();
    dt_symbol s;
    dt_pdb_lookup(pdb, 0x1010, &s);
    double t2 = bench_now_ms();
    uint64_t read = resident_bytes(path);
    uint64_t state = 88172645463325252ull;
    size_t hits = 0;
    for (int i = 0; i < LOOKUPS; i++)
        hits += dt_pdb_lookup(pdb, next_rva(&state, 0x1000, 0x40000), &s);
    double t3 = bench_now_ms();
    const char *slash = strrchr(path, '/');
    report(slash ? slash + 1 : path, bench_file_size(path), t1 - t0, t2 - t1,
           (t3 - t2) * 1e6 / LOOKUPS, hits);
    printf("  %-30s in the page cache after open + first lookup: %.0f KiB of %.0f KiB "
           "(%.0f KiB before; read-ahead included)\n", "", (double)read / 1024,
           (double)bench_file_size(path) / 1024, (double)cached_before / 1024);
    dt_pdb_free(pdb);
}

static const char *const corpus_pdbs[] = {
    "BugSplat-Git+bugsplat-dotnet-standard/BugSplatDotNetStandard.Test/Files/myConsoleCrasher.pdb",
    "google+breakpad/src/tools/windows/dump_syms/testdata/dump_syms_regtest64.pdb",
    "getsentry+symbolic/symbolic-testutils/fixtures/windows/CrashWithException.pdb",
};

bool bench_case_symbols(const bench_config *c)
{
    uint64_t size = c->quick ? 20ull << 20 : 200ull << 20;
    printf("case 4: symbol files in-process: time to the first lookup, then %d random "
           "lookups\n", LOOKUPS);
    char *path = bench_format("%s/generated.sym", c->work);
    size_t functions = bench_write_sym(path, size);
    bool ok = functions > 0 && bench_sym(path, functions);
    unlink(path);
    free(path);
    for (size_t i = 0; i < sizeof corpus_pdbs / sizeof corpus_pdbs[0]; i++) {
        char *pdb = bench_format("%s/corpus/%s", c->shared_dir, corpus_pdbs[i]);
        if (bench_file_size(pdb))
            bench_pdb(pdb);
        free(pdb);
    }
    return ok;
}
