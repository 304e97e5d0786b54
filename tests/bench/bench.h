/*
 * dt-bench: the performance benchmark (docs/performance.md). Every case runs
 * the dumptriage program as users do (a child process: start-up counts) or,
 * for symbol files, the library in-process; it prints medians over N runs,
 * never asserts a speed, except that --check compares callgrind instruction
 * counts of case 1 with a committed baseline.
 */
#ifndef DT_BENCH_H
#define DT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_config {
    const char *tool;        /* the dumptriage binary */
    const char *source_dir;  /* the repository (fixtures/) */
    const char *shared_dir;  /* ../shared (corpus), may be absent */
    const char *work;        /* scratch directory, removed at the end */
    bool quick;              /* CI: fewer runs, smaller inputs */
    int runs;                /* runs per measurement */
    bool cases[6];           /* cases[1..5] selected */
} bench_config;

/* One child run: wall time, CPU time (user+sys) and peak RSS. */
typedef struct bench_sample {
    double wall_ms;
    double cpu_ms;
    double rss_mb;
    int status;              /* exit status, -1 when it did not exit */
} bench_sample;

/* Medians of wall and CPU time, the largest peak RSS, over `runs` runs. */
typedef struct bench_result {
    double wall_ms;
    double cpu_ms;
    double rss_mb;
    int status;              /* of the last run */
} bench_result;

/* ---- bench_proc.c: running programs ------------------------------------- */

/* Runs argv (NULL-terminated) with stdout and stderr to `out` (NULL:
 * /dev/null); fills `sample`. False when it could not be started. */
bool bench_spawn(char *const argv[], const char *out, bench_sample *sample);
/* `runs` runs after one warm-up run. */
bool bench_measure(char *const argv[], int runs, bench_result *result);
/* Runs two programs at once (output to /dev/null); `wall_ms` is the time
 * until both have exited. */
bool bench_spawn_pair(char *const first[], char *const second[], double *wall_ms);
double bench_now_ms(void);
double bench_median(double *values, size_t count);
/* Size of a file in bytes (its apparent size), 0 when absent. */
uint64_t bench_file_size(const char *path);
/* Blocks actually allocated to a file, in bytes. */
uint64_t bench_file_allocated(const char *path);
/* snprintf into a fresh string (aborts on out of memory). */
char *bench_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* mkdir -p; false with a message on failure. */
bool bench_make_dir(const char *path);
/* rm -r of the work directory (only what dt-bench made). */
void bench_remove_tree(const char *path);

/* ---- bench_inputs.c: inputs ---------------------------------------------- */

typedef struct bench_files {
    char **paths;
    size_t count;
} bench_files;

void bench_files_add(bench_files *files, char *path);   /* takes `path` */
void bench_files_free(bench_files *files);
/* fixtures/dumps/<name>.mini.dmp.gz inflated into <work>/fixtures. */
bool bench_fixture_minidumps(const bench_config *c, bench_files *out);
/* Windows minidumps of the shared corpus (none when it is absent). */
void bench_corpus_minidumps(const bench_config *c, bench_files *out);
/* The synthetic scenarios' mini and full dumps under <work>/synth. */
bool bench_scenario_dumps(const bench_config *c, bench_files *out);
/* A folder of `count` links to `sources`, cycling through them. */
bool bench_link_folder(const char *dir, const bench_files *sources, size_t count);
/* A folder `half` of links to the even (`which` 0) or odd (1) entries of a
 * folder made by bench_link_folder. */
bool bench_link_half(const char *half, const char *dir, size_t count, int which);
/* A Breakpad .sym file of about `bytes` bytes; returns its FUNC count. */
size_t bench_write_sym(const char *path, uint64_t bytes);

/* ---- bench_pdb.c: a large generated PDB ----------------------------------- */

/* A procedure of the generated PDB: what a lookup inside it must answer. */
typedef struct bench_pdb_function {
    uint32_t rva;
    uint32_t size;
    uint32_t first_line;     /* line of the statement at offset 0 */
    uint32_t line_count;     /* statements: see bench_pdb_line */
    const char *name;        /* as S_GPROC32/S_LPROC32 holds it */
    const char *file;        /* its source file */
} bench_pdb_function;

/* Sizes of what bench_pdb_write wrote. */
typedef struct bench_pdb_layout {
    uint64_t file_size;
    uint64_t tpi_size;       /* stream 2 */
    uint64_t tpi_offset;     /* file offset of its first block; its blocks follow */
    uint64_t tpi_span;       /* bytes from there to the DBI stream's first block */
    uint32_t type_count;
    uint64_t lookup_size;    /* the streams a lookup in a procedure reads: PDB info,
                                DBI, section headers, the module streams, /names */
    uint64_t publics_size;   /* publics and symbol records (lookups outside procedures) */
} bench_pdb_layout;

typedef struct bench_pdb_plan bench_pdb_plan;

/* The modules, procedures, lines and names of a PDB of `modules` modules
 * (at most 4000) whose TPI holds about `type_bytes` of type records;
 * deterministic. */
bench_pdb_plan *bench_pdb_plan_make(size_t modules, uint64_t type_bytes);
void bench_pdb_plan_free(bench_pdb_plan *plan);
size_t bench_pdb_function_count(const bench_pdb_plan *plan);
/* Procedures in address order. */
const bench_pdb_function *bench_pdb_function_at(const bench_pdb_plan *plan, size_t i);
/* The line of the statement holding `offset` of `f`. */
uint32_t bench_pdb_line(const bench_pdb_function *f, uint32_t offset);
/* Writes the PDB to `path` (synced to disk) from a child process, so none
 * of the writer's memory is ever part of this one; false with a message. */
bool bench_pdb_write(const bench_pdb_plan *plan, const char *path, bench_pdb_layout *layout);

/* ---- the cases ----------------------------------------------------------- */

/* Each prints its lines and returns false when it could not run. */
bool bench_case_minidumps(const bench_config *c);
bool bench_case_large(const bench_config *c);
bool bench_case_folder(const bench_config *c);
bool bench_case_symbols(const bench_config *c);
bool bench_case_gzip(const bench_config *c);
void bench_startup(const bench_config *c);

/* ---- bench_callgrind.c: instruction counts ------------------------------- */

/* Total callgrind instructions of `analyze --format json` over every
 * fixture minidump; 0 on failure (valgrind missing). */
uint64_t bench_callgrind_case1(const bench_config *c);

/* Prints "target <text>: met|MISSED". */
void bench_target(const char *text, bool met);

#endif
