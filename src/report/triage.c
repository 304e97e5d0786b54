/* The triage pipeline of one dump, its verdict and its bucket. */
#include "dumptriage/triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/text.h"


enum { TEXT_SIZE = 512, BUCKET_FRAMES = 3, SIGNATURE_SIZE = 1024 };

struct dt_triage {
    dt_dump *dump;
    dt_image_set *images;
    dt_symbolizer *symbols;
    dt_stacks *stacks;
    dt_analysis *analysis;
    dt_findings *findings;
    char verdict[TEXT_SIZE];
    char signature[SIGNATURE_SIZE];
    char hash[17];
};

/* ---- Pipeline ------------------------------------------------------------ */

static void find_sources(dt_triage *t, const dt_triage_options *o)
{
    dt_error err = {0};
    dt_image_search images = {o->image_paths, o->image_path_count, true, true, o->offline};
    if (dt_image_set_new(&t->images, t->dump, &images, &err) != DT_OK)
        return;
    dt_symbol_search symbols = {o->symbol_paths, o->symbol_path_count, true, o->offline,
                                t->images};
    dt_symbolizer_new(&t->symbols, t->dump, &symbols, &err);
}

static void walk_and_judge(dt_triage *t, const dt_triage_options *o, uint64_t deadline_ns)
{
    dt_walk_options walk = {o->max_frames, t->images, deadline_ns};
    dt_walk_x86_options x86 = {.wow64_native = o->wow64_native};
    if (dt_walk_threads_ex(&t->stacks, t->dump, &walk, &x86) != DT_OK)
        return;
    if (t->symbols)
        dt_stacks_symbolize(t->stacks, t->symbols);
    if (o->rules && dt_analyze_process(&t->analysis, t->dump, t->stacks) == DT_OK)
        dt_rules_evaluate(&t->findings, o->rules, t->dump, t->stacks, t->analysis);
}

static void compose_verdict(dt_triage *t);
static void compose_bucket(dt_triage *t);

dt_status dt_triage_run(dt_triage **out, const char *path, const dt_triage_options *options,
                        dt_error *err)
{
    static const dt_triage_options defaults;
    const dt_triage_options *o = options ? options : &defaults;
    *out = NULL;
    uint64_t deadline_ns = o->time_budget_ms ? dt_clock_ns() + o->time_budget_ms * 1000000ull : 0;
    dt_triage *t = calloc(1, sizeof *t);
    if (!t)
        return DT_ERR_NOMEM;
    dt_status st = dt_dump_open(&t->dump, path, NULL, err);
    if (st != DT_OK) {
        free(t);
        return st;
    }
    find_sources(t, o);
    walk_and_judge(t, o, deadline_ns);
    compose_verdict(t);
    compose_bucket(t);
    *out = t;
    return DT_OK;
}

void dt_triage_free(dt_triage *t)
{
    if (!t)
        return;
    dt_findings_free(t->findings);
    dt_analysis_free(t->analysis);
    dt_stacks_free(t->stacks);
    dt_symbolizer_free(t->symbols);
    dt_image_set_free(t->images);
    dt_dump_free(t->dump);
    free(t);
}

const dt_dump *dt_triage_dump(const dt_triage *t) { return t->dump; }
const dt_stacks *dt_triage_stacks(const dt_triage *t) { return t->stacks; }
const dt_analysis *dt_triage_analysis(const dt_triage *t) { return t->analysis; }
dt_image_set *dt_triage_images(const dt_triage *t) { return t->images; }
dt_symbolizer *dt_triage_symbolizer(const dt_triage *t) { return t->symbols; }
const char *dt_triage_verdict(const dt_triage *t) { return t->verdict; }
const char *dt_triage_bucket_signature(const dt_triage *t) { return t->signature; }
const char *dt_triage_bucket_hash(const dt_triage *t) { return t->hash; }

const dt_finding *dt_triage_findings(const dt_triage *t, size_t *count)
{
    *count = 0;
    return t->findings ? dt_findings_list(t->findings, count) : NULL;
}

const dt_thread_stack *dt_triage_thread_stack(const dt_triage *t, uint32_t thread_id)
{
    size_t n = 0;
    const dt_thread_stack *threads = t->stacks ? dt_stacks_threads(t->stacks, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        if (threads[i].thread->id == thread_id)
            return &threads[i];
    return NULL;
}

const dt_thread_facts *dt_triage_thread_facts(const dt_triage *t, uint32_t thread_id)
{
    size_t n = 0;
    const dt_thread_facts *facts = t->analysis ? dt_analysis_threads(t->analysis, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        if (facts[i].thread_id == thread_id)
            return &facts[i];
    return NULL;
}

/* ---- Verdict ------------------------------------------------------------- */

/* The faulting thread's first frame, WinDbg style, or the raw address. When
 * frame 0 lies in no module (a call through a bad pointer), the caller is
 * named too. */
static void fault_location(const dt_triage *t, const dt_exception *e, char *out, size_t size)
{
    const dt_thread_stack *s = dt_triage_thread_stack(t, e->thread_id);
    if (!s || s->frame_count == 0) {
        snprintf(out, size, "0x%llx", (unsigned long long)e->address);
        return;
    }
    dt_frame_display(&s->frames[0], out, size);
    size_t n = strlen(out);
    static const char called_from[] = ", called from ";
    if (!s->frames[0].module && s->frame_count > 1 && size - n > sizeof called_from) {
        memcpy(out + n, called_from, sizeof called_from);
        n += sizeof called_from - 1;
        dt_frame_display(&s->frames[1], out + n, size - n);
    }
}

static void crash_verdict(dt_triage *t, const dt_exception *e)
{
    char where[256];
    fault_location(t, e, where, sizeof where);
    if (e->code == 0xC0000005 && e->parameter_count >= 2) {
        uint64_t kind = e->parameters[0];
        const char *access = kind == 0 ? "reading" : kind == 1 ? "writing" : "executing";
        snprintf(t->verdict, sizeof t->verdict, "CRASH: access violation %s 0x%llx in %s",
                 access, (unsigned long long)e->parameters[1], where);
        return;
    }
    const char *name = dt_exception_code_name(e->code);
    snprintf(t->verdict, sizeof t->verdict, "CRASH: exception 0x%08x%s%s in %s", e->code,
             name ? " " : "", name ? name : "", where);
}

/* Breakpoints and thread-name notifications are how debuggers break in,
 * not crashes. */
static bool is_crash(const dt_exception *e)
{
    return e && e->code != 0x80000003 && e->code != 0x406D1388 && e->code != 0x4000001F &&
           e->code != 0x40010005;
}

/* HANG when the finding's threads wait, BUSY when one of them runs, and
 * PROBLEM for findings about no thread (leaks, memory). */
static const char *finding_kind(const dt_triage *t, const dt_finding *f)
{
    bool waiting = false;
    for (size_t i = 0; i < f->thread_id_count; i++) {
        const dt_thread_facts *facts = dt_triage_thread_facts(t, f->thread_ids[i]);
        if (facts && facts->state == DT_STATE_RUNNING)
            return "BUSY";
        waiting |= facts != NULL;
    }
    return waiting ? "HANG" : "PROBLEM";
}

/* A cut or corrupted dump may have lost the very thread or exception that
 * explains it, so "OK" would overstate what was seen. */
static size_t count_damage(const dt_dump *dump)
{
    size_t n = 0, damage = 0;
    const dt_diagnostic *diags = dt_dump_diagnostics(dump, &n);
    for (size_t i = 0; i < n; i++)
        damage += diags[i].level == DT_DIAG_ERROR;
    return damage;
}

static void compose_verdict(dt_triage *t)
{
    size_t n;
    const dt_finding *findings = dt_triage_findings(t, &n);
    const dt_exception *e = dt_dump_exception(t->dump);
    if (is_crash(e)) {
        crash_verdict(t, e);
        return;
    }
    if (n && findings[0].severity >= DT_SEVERITY_WARNING) {
        snprintf(t->verdict, sizeof t->verdict, "%s: %s", finding_kind(t, &findings[0]),
                 findings[0].summary);
        return;
    }
    size_t threads = 0;
    if (t->stacks)
        dt_stacks_threads(t->stacks, &threads);
    if (t->stacks && dt_stacks_cut_short(t->stacks)) {
        snprintf(t->verdict, sizeof t->verdict,
                 "PARTIAL: the time budget ran out before every thread was walked and named "
                 "(see diagnostics); no known problem found in what was seen");
        return;
    }
    size_t damage = count_damage(t->dump);
    if (damage) {
        snprintf(t->verdict, sizeof t->verdict,
                 "DAMAGED: the dump is incomplete (%zu error%s in diagnostics); no known problem "
                 "found in the %zu readable thread%s",
                 damage, damage == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
        return;
    }
    snprintf(t->verdict, sizeof t->verdict, "OK: no known problem found in %zu thread%s%s",
             threads, threads == 1 ? "" : "s", n ? " (informational findings below)" : "");
}

/* ---- Bucket -------------------------------------------------------------- */

/* Frames that say nothing about the cause: wait primitives, syscall stubs,
 * thread start-up and the loader (after Socorro's skip lists). */
static const char *const skipped_frames[] = {
    "ntdll!*", "kernel32!WaitFor*", "kernel32!SleepEx", "kernel32!Sleep",
    "kernel32!BaseThreadInitThunk", "kernel32!RaiseException", "kernel32!CloseHandle*",
    "user32!NtUser*", "win32u!*", "ucrtbase!*", "msvcrt!*", "vcruntime*!*"};

static bool meaningful(const dt_frame *f)
{
    if (!f->module)
        return false; /* JIT code or garbage: addresses differ from run to run */
    for (size_t i = 0; i < sizeof skipped_frames / sizeof skipped_frames[0]; i++)
        if (dt_frame_name_matches(skipped_frames[i], f))
            return false;
    return true;
}

/* The thread that matters: the top finding's first thread, else the
 * faulting thread, else the first thread. */
static const dt_thread_stack *key_thread(const dt_triage *t)
{
    size_t n, count = 0;
    const dt_finding *findings = dt_triage_findings(t, &n);
    const dt_exception *e = dt_dump_exception(t->dump);
    const dt_thread_stack *threads = t->stacks ? dt_stacks_threads(t->stacks, &count) : NULL;
    const dt_thread_stack *s = NULL;
    if (n && findings[0].thread_id_count)
        s = dt_triage_thread_stack(t, findings[0].thread_ids[0]);
    if (!s && e)
        s = dt_triage_thread_stack(t, e->thread_id);
    return s ? s : count ? &threads[0] : NULL;
}

/* "module!function" without offsets (they change between builds). */
static void frame_key(const dt_frame *f, char *out, size_t size)
{
    char stem[128];
    snprintf(stem, sizeof stem, "%s", f->module->name);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    if (f->function)
        snprintf(out, size, "%s!%s", stem, f->function);
    else
        snprintf(out, size, "%s+0x%llx", stem, (unsigned long long)(f->ip - f->module->base));
}

static void compose_bucket(dt_triage *t)
{
    size_t n, used;
    const dt_finding *findings = dt_triage_findings(t, &n);
    const dt_exception *e = dt_dump_exception(t->dump);
    if (n)
        used = (size_t)snprintf(t->signature, sizeof t->signature, "%s", findings[0].rule_id);
    else if (is_crash(e))
        used = (size_t)snprintf(t->signature, sizeof t->signature, "0x%08x", e->code);
    else
        used = (size_t)snprintf(t->signature, sizeof t->signature, "no-finding");
    const dt_thread_stack *s = key_thread(t);
    size_t taken = 0;
    for (size_t i = 0; s && i < s->frame_count && taken < BUCKET_FRAMES; i++) {
        char key[300];
        if (!meaningful(&s->frames[i]))
            continue;
        frame_key(&s->frames[i], key, sizeof key);
        if (used < sizeof t->signature)
            used += (size_t)snprintf(t->signature + used, sizeof t->signature - used, " | %s", key);
        taken++;
    }
    snprintf(t->hash, sizeof t->hash, "%016llx",
             (unsigned long long)dt_fnv1a_string(t->signature));
}
