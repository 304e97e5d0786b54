/* dt-bench case 4: symbol files, in-process: time to the first lookup and
 * per lookup for a generated Breakpad .sym, a large generated PDB (with the
 * memory its lookups touch) and the corpus PDBs. */
#include "bench.h"

#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumptriage/symbols.h"

enum { LOOKUPS = 200000, BATCH = 1000 };

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

/* ---- The generated PDB ---------------------------------------------------- */

/* The process's resident memory in bytes (/proc/self/statm): in all, and
 * the file-backed part (pages of mapped files). */
typedef struct resident {
    uint64_t total;
    uint64_t file;
} resident;

static resident resident_now(void)
{
    unsigned long long size = 0, total = 0, shared = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%llu %llu %llu", &size, &total, &shared) != 3)
        total = shared = 0;
    if (f)
        fclose(f);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    return (resident){total * page, shared * page};
}

/* Random RVAs inside the procedures, and the procedure of each. */
static void pick_rvas(const bench_pdb_plan *plan, uint32_t *rvas, uint32_t *which)
{
    uint64_t state = 88172645463325252ull;
    uint32_t count = (uint32_t)bench_pdb_function_count(plan);
    for (int i = 0; i < LOOKUPS; i++) {
        which[i] = next_rva(&state, 0, count);
        const bench_pdb_function *f = bench_pdb_function_at(plan, which[i]);
        rvas[i] = next_rva(&state, f->rva, f->size);
    }
}

/* Where this process maps offset 0 of `path` (its line in
 * /proc/self/maps), or 0. */
static uint64_t mapping_of(const char *path)
{
    char real[PATH_MAX], line[PATH_MAX + 128];
    FILE *f = realpath(path, real) ? fopen("/proc/self/maps", "r") : NULL;
    uint64_t found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        unsigned long long low, offset;
        int name = 0;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %n", &low, &offset, &name) == 2 && name &&
            offset == 0 && strcmp(line + name, real) == 0)
            found = low;
    }
    if (f)
        fclose(f);
    return found;
}

/* Bytes of [offset, offset + length) of `path` whose pages are mapped into
 * this process (present in /proc/self/pagemap), or UINT64_MAX when that
 * cannot be read. */
static uint64_t mapped_bytes(const char *path, uint64_t offset, uint64_t length)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), start = mapping_of(path);
    uint64_t count = length / page, mapped = UINT64_MAX;
    int fd = start ? open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
    size_t bytes = count * sizeof(uint64_t);
    uint64_t *entries = fd >= 0 ? malloc(bytes + sizeof(uint64_t)) : NULL;
    off_t at = (off_t)((start + offset) / page * sizeof(uint64_t));
    if (entries && pread(fd, entries, bytes, at) == (ssize_t)bytes) {
        mapped = 0;
        for (uint64_t i = 0; i < count; i++)
            mapped += (entries[i] >> 63) * page; /* bit 63: page present */
    }
    free(entries);
    if (fd >= 0)
        close(fd);
    return mapped;
}

typedef struct pdb_run {
    double open_ms;
    double first_ms;
    double median_ns;        /* of the per-lookup times of batches of BATCH lookups */
    double all_ms;
    double warm_open_ms;     /* open and first lookup again, the file in the page cache */
    double warm_first_ms;
    size_t hits;
    uint64_t touched;        /* growth of the file-backed resident memory */
    uint64_t grown;          /* growth of the resident memory */
    uint64_t tpi_mapped;     /* TPI pages mapped into the process */
    uint64_t tpi_inside;     /* of them, more than FAULT_AROUND from its ends */
} pdb_run;

/* A page fault maps the cached pages of its 64 KiB around it (Linux
 * fault_around_bytes), so pages next to the streams read are mapped too. */
enum { FAULT_AROUND = 64 * 1024 };

static uint64_t growth(uint64_t before, uint64_t after)
{
    return after > before ? after - before : 0;
}

/* Open, the first lookup, then LOOKUPS lookups in batches; the PDB is
 * left open in *out for the check. */
static bool time_lookups(const char *path, const uint32_t *rvas, pdb_run *r, dt_pdb **out)
{
    static double batches[LOOKUPS / BATCH];
    drop_cache(path);
    malloc_trim(0); /* heap pages freed by earlier cases would hide the growth */
    resident before = resident_now();
    double t0 = bench_now_ms();
    dt_error err;
    if (dt_pdb_open(out, path, &err) != DT_OK) {
        fprintf(stderr, "dt-bench: %s\n", err.message);
        return false;
    }
    double t1 = bench_now_ms();
    dt_symbol s;
    dt_pdb_lookup(*out, rvas[0], &s);
    double t2 = bench_now_ms();
    for (int b = 0; b < LOOKUPS / BATCH; b++) {
        double start = bench_now_ms();
        for (int i = b * BATCH; i < (b + 1) * BATCH; i++)
            r->hits += dt_pdb_lookup(*out, rvas[i], &s);
        batches[b] = (bench_now_ms() - start) * 1e6 / BATCH;
    }
    r->all_ms = bench_now_ms() - t2;
    resident after = resident_now();
    r->open_ms = t1 - t0;
    r->first_ms = t2 - t1;
    r->median_ns = bench_median(batches, LOOKUPS / BATCH);
    r->touched = growth(before.file, after.file);
    r->grown = growth(before.total, after.total);
    return true;
}

/* Open and the first lookup once more, now that the file is cached. */
static void time_warm(const char *path, uint32_t rva, pdb_run *r)
{
    dt_pdb *pdb = NULL;
    dt_symbol s;
    double t0 = bench_now_ms();
    if (dt_pdb_open(&pdb, path, NULL) != DT_OK)
        return;
    double t1 = bench_now_ms();
    dt_pdb_lookup(pdb, rva, &s);
    r->warm_open_ms = t1 - t0;
    r->warm_first_ms = bench_now_ms() - t1;
    dt_pdb_free(pdb);
}

/* Lookups that give the generated procedure, its file and line. */
static size_t check_lookups(dt_pdb *pdb, const bench_pdb_plan *plan, const uint32_t *rvas,
                            const uint32_t *which)
{
    size_t good = 0;
    for (int i = 0; i < LOOKUPS; i++) {
        const bench_pdb_function *f = bench_pdb_function_at(plan, which[i]);
        dt_symbol s;
        good += dt_pdb_lookup(pdb, rvas[i], &s) && strcmp(s.function, f->name) == 0 &&
                s.function_rva == f->rva && s.function_size == f->size && s.file &&
                strcmp(s.file, f->file) == 0 && s.line == bench_pdb_line(f, rvas[i] - f->rva);
    }
    return good;
}

static void report_generated(const bench_pdb_layout *l, const pdb_run *r, size_t modules)
{
    double file = (double)l->file_size / MIB, tpi = (double)l->tpi_size / MIB;
    bool measured = r->tpi_mapped != UINT64_MAX;
    printf("  %-30s %8.1f MiB  open %8.2f ms  first lookup %7.3f ms  median %4.0f ns/lookup, "
           "%zu/%d found\n", "generated.pdb", file, r->open_ms, r->first_ms, r->median_ns,
           r->hits, LOOKUPS);
    printf("  %-30s all %d lookups: %.0f ms (loading the %zu module streams on first use); "
           "again with the file in the page cache: open %.2f ms, first lookup %.3f ms\n", "",
           LOOKUPS, r->all_ms, modules, r->warm_open_ms, r->warm_first_ms);
    printf("  %-30s touched %.1f MiB of a %.1f MiB file (TPI %.1f MiB %s)\n", "",
           (double)r->touched / MIB, file, tpi,
           !measured ? "not measured" : r->tpi_inside ? "read" : "never read");
    printf("  %-30s needed: %.1f MiB (PDB info, DBI, section headers, module streams, /names); "
           "not needed: publics and symbol records %.1f MiB, TPI %.1f MiB\n", "",
           (double)l->lookup_size / MIB, (double)l->publics_size / MIB, tpi);
    if (measured)
        printf("  %-30s TPI pages mapped: %.0f KiB, %.0f KiB of them more than %d KiB from "
               "its ends\n", "", (double)r->tpi_mapped / 1024, (double)r->tpi_inside / 1024,
               FAULT_AROUND / 1024);
    printf("  %-30s resident memory +%.1f MiB: %.1f MiB pages of the file (touched), %.1f MiB "
           "stream copies and indexes\n", "", (double)r->grown / MIB, (double)r->touched / MIB,
           (double)growth(r->touched, r->grown) / MIB);
}

/* TPI pages mapped, in all and away from its ends. */
static void tpi_pages(const char *path, const bench_pdb_layout *l, pdb_run *r)
{
    r->tpi_mapped = mapped_bytes(path, l->tpi_offset, l->tpi_span);
    r->tpi_inside = mapped_bytes(path, l->tpi_offset + FAULT_AROUND,
                                 l->tpi_span - 2 * FAULT_AROUND);
}

/* A PDB of `modules` modules with about `type_bytes` of types: written,
 * then looked up at random RVAs inside its procedures. */
static bool bench_generated_pdb(const bench_config *c, size_t modules, uint64_t type_bytes)
{
    bench_pdb_plan *plan = bench_pdb_plan_make(modules, type_bytes);
    uint32_t *rvas = malloc(LOOKUPS * sizeof *rvas), *which = malloc(LOOKUPS * sizeof *which);
    char *path = bench_format("%s/generated.pdb", c->work);
    bench_pdb_layout layout;
    pdb_run run = {0};
    dt_pdb *pdb = NULL;
    bool ok = rvas && which;
    if (ok)
        pick_rvas(plan, rvas, which);
    double start = bench_now_ms();
    ok = ok && bench_pdb_write(plan, path, &layout);
    double written = bench_now_ms();
    ok = ok && time_lookups(path, rvas, &run, &pdb);
    if (ok) {
        tpi_pages(path, &layout, &run);
        time_warm(path, rvas[0], &run);
        printf("  generated.pdb: %zu modules, %zu procedures, %u types; written and synced in "
               "%.1f s\n", modules, bench_pdb_function_count(plan), layout.type_count,
               (written - start) / 1e3);
        report_generated(&layout, &run, modules);
        size_t good = check_lookups(pdb, plan, rvas, which);
        printf("  %-30s %zu of %d lookups give the generated procedure, file and line\n", "",
               good, LOOKUPS);
        ok = good == LOOKUPS;
        bench_target("a PDB lookup touches only the streams it needs",
                     run.touched < layout.file_size - layout.tpi_size);
    }
    dt_pdb_free(pdb);
    unlink(path);
    free(path);
    free(rvas);
    free(which);
    bench_pdb_plan_free(plan);
    malloc_trim(0); /* children forked later start with this process's memory */
    return ok;
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
    /* 400 modules and 180 MiB of types; a tenth of it with --quick. */
    ok &= bench_generated_pdb(c, c->quick ? 40 : 400, (c->quick ? 18ull : 180ull) << 20);
    for (size_t i = 0; i < sizeof corpus_pdbs / sizeof corpus_pdbs[0]; i++) {
        char *pdb = bench_format("%s/corpus/%s", c->shared_dir, corpus_pdbs[i]);
        if (bench_file_size(pdb))
            bench_pdb(pdb);
        free(pdb);
    }
    return ok;
}
