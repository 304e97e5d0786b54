/* HTML: one self-contained page (inline style and SVG charts, no scripts,
 * no external assets) that opens from disk in any browser. */
#include "report/batch_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"

enum {
    CHART_GROUPS = 10, BAR_WIDTH = 360, DISPLAY_SIZE = 512,
    LABEL_WIDTH = 300,       /* room for a frame name at 12px */
    LABEL_CHARS = 44         /* longer labels are cut, the full text in a <title> */
};

static const char STYLE[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}"
    "h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em}"
    ".verdict{font-weight:bold;font-size:1.1em;margin:.5em 0}"
    ".finding{border-left:4px solid #999;padding:.3em .8em;margin:.8em 0;background:#fafafa}"
    ".error{border-color:#c0392b}.warning{border-color:#e67e22}.info{border-color:#2980b9}"
    ".badge{font-size:.8em;text-transform:uppercase;padding:.1em .4em;border-radius:3px;"
    "color:#fff;background:#999}.badge.error{background:#c0392b}"
    ".badge.warning{background:#e67e22}.badge.info{background:#2980b9}"
    "table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}"
    "code,pre{font-family:ui-monospace,monospace;font-size:.85em}"
    "details{margin:.3em 0}svg text{font-size:12px}.unreadable{color:#c0392b}";

static void escaped(dt_strbuf *out, const char *s);

/* The id of a dump's section: FNV-1a of its path, so the overview can link
 * to it without knowing the entry's position. */
static void section_id(dt_strbuf *out, const char *path)
{
    dt_strbuf_printf(out, "dump-%016" PRIx64, dt_fnv1a_string(path));
}

/* A table of every dump: its verdict, its findings by severity, its bucket. */
static void overview(dt_strbuf *out, const dt_batch_totals *t)
{
    if (!t->rows || t->dumps < 2)
        return;
    dt_strbuf_puts(out, "<table id=\"overview\">\n<tr><th>Dump</th><th>Verdict</th><th>Errors</th>"
                        "<th>Warnings</th><th>Info</th><th>Bucket</th></tr>\n");
    for (size_t i = 0; i < t->dumps; i++) {
        const dt_batch_outcome *o = t->rows[i].outcome;
        dt_strbuf_puts(out, "<tr><td><a href=\"#");
        section_id(out, t->rows[i].path);
        dt_strbuf_puts(out, "\">");
        escaped(out, t->rows[i].path);
        dt_strbuf_printf(out, "</a></td><td%s>", o->failed ? " class=\"unreadable\"" : "");
        escaped(out, o->verdict);
        dt_strbuf_printf(out, "</td><td>%zu</td><td>%zu</td><td>%zu</td><td><code>%s</code></td>"
                         "</tr>\n", o->findings[DT_SEVERITY_ERROR],
                         o->findings[DT_SEVERITY_WARNING], o->findings[DT_SEVERITY_INFO],
                         o->bucket_hash);
    }
    dt_strbuf_puts(out, "</table>\n");
}

char *dt_html_header(const dt_batch_totals *t)
{
    dt_strbuf out = {0};
    dt_strbuf_printf(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<title>dumptriage report</title>\n<style>%s</style>\n</head>\n<body>\n"
                     "<h1>dumptriage report</h1>\n<p id=\"summary\">%zu dump%s analyzed: %zu "
                     "unreadable; findings: %zu error, %zu warning, %zu info.</p>\n<main>\n",
                     STYLE, t->dumps, t->dumps == 1 ? "" : "s", t->failed,
                     t->findings[DT_SEVERITY_ERROR], t->findings[DT_SEVERITY_WARNING],
                     t->findings[DT_SEVERITY_INFO]);
    overview(&out, t);
    return dt_strbuf_take(&out);
}

static void escaped(dt_strbuf *out, const char *s)
{
    dt_xml_escape(out, s ? s : "");
}

/* A chart label: at most LABEL_CHARS characters (UTF-8 sequences kept
 * whole), then an ellipsis, so it never runs under its bar. */
static void label(dt_strbuf *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t chars = 0, bytes = 0, kept = 0;
    while (p[bytes]) {
        if (chars == LABEL_CHARS - 1)
            kept = bytes;
        size_t n = dt_utf8_sequence(p + bytes);
        bytes += n ? n : 1;
        chars++;
    }
    if (chars <= LABEL_CHARS) {
        escaped(out, text);
        return;
    }
    char cut[LABEL_CHARS * 4];
    memcpy(cut, text, kept); /* kept < 4 * (LABEL_CHARS - 1): sequences are at most 4 bytes */
    cut[kept] = '\0';
    escaped(out, cut);
    dt_strbuf_puts(out, "\xE2\x80\xA6");
}

/* A horizontal bar chart: one labelled bar per value. */
static void bar_chart(dt_strbuf *out, const char *title, const char *const *labels,
                      const size_t *values, size_t n)
{
    size_t max = 1;
    for (size_t i = 0; i < n; i++)
        max = values[i] > max ? values[i] : max;
    dt_strbuf_printf(out, "<figure><figcaption>%s</figcaption>\n<svg xmlns=\"http://www.w3.org/"
                     "2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\">\n", title,
                     LABEL_WIDTH + BAR_WIDTH + 60, 22 * n + 4);
    for (size_t i = 0; i < n; i++) {
        size_t width = values[i] * BAR_WIDTH / max;
        dt_strbuf_printf(out, "<text x=\"0\" y=\"%zu\"><title>", 22 * i + 15);
        escaped(out, labels[i]);
        dt_strbuf_puts(out, "</title>");
        label(out, labels[i]);
        dt_strbuf_printf(out, "</text><rect x=\"%d\" y=\"%zu\" width=\"%zu\" height=\"16\" "
                         "fill=\"#5b8def\"/><text x=\"%zu\" y=\"%zu\">%zu</text>\n",
                         LABEL_WIDTH, 22 * i + 3, width ? width : 1, LABEL_WIDTH + 6 + width,
                         22 * i + 15, values[i]);
    }
    dt_strbuf_puts(out, "</svg></figure>\n");
}

static void state_chart(dt_strbuf *out, const dt_triage *t)
{
    static const char *const labels[] = {"running", "waiting", "idle"};
    size_t counts[3] = {0}, n = 0;
    const dt_analysis *analysis = dt_triage_analysis(t);
    const dt_thread_facts *facts = analysis ? dt_analysis_threads(analysis, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        counts[facts[i].state <= DT_STATE_IDLE ? facts[i].state : 0]++;
    if (n)
        bar_chart(out, "Thread states", labels, counts, 3);
}

static void group_chart(dt_strbuf *out, const dt_stacks *stacks)
{
    size_t n, count;
    const dt_stack_group *groups = dt_stacks_groups(stacks, &n);
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &count);
    const char *labels[CHART_GROUPS];
    size_t values[CHART_GROUPS];
    char names[CHART_GROUPS][DISPLAY_SIZE];
    size_t shown = n < CHART_GROUPS ? n : CHART_GROUPS;
    for (size_t g = 0; g < shown; g++) {
        const dt_thread_stack *s = &threads[groups[g].threads[0]];
        if (s->frame_count)
            dt_frame_display(&s->frames[0], names[g], sizeof names[g]);
        else
            snprintf(names[g], sizeof names[g], "(no frames)");
        labels[g] = names[g];
        values[g] = groups[g].thread_count;
    }
    if (shown)
        bar_chart(out, "Stack groups (threads per group, by top frame)", labels, values, shown);
}

static void finding(dt_strbuf *out, const dt_finding *f)
{
    const char *severity = dt_severity_name(f->severity);
    dt_strbuf_printf(out, "<div class=\"finding %s\"><span class=\"badge %s\">%s</span> "
                     "<strong>", severity, severity, severity);
    escaped(out, f->title);
    dt_strbuf_puts(out, "</strong> <code>");
    escaped(out, f->rule_id);
    dt_strbuf_puts(out, "</code><p>");
    escaped(out, f->summary);
    dt_strbuf_puts(out, "</p>\n");
    for (size_t i = 0; i < f->evidence_count && i < 5; i++) {
        dt_strbuf_printf(out, "<pre>thread %u:", f->evidence[i].thread_id);
        for (size_t k = 0; k < f->evidence[i].frame_count; k++) {
            dt_strbuf_puts(out, "\n  ");
            escaped(out, f->evidence[i].frames[k]);
        }
        dt_strbuf_puts(out, "</pre>\n");
    }
    dt_strbuf_puts(out, "<p><em>Why:</em> ");
    escaped(out, f->explanation);
    dt_strbuf_puts(out, "</p><p><em>What to do:</em> ");
    escaped(out, f->advice);
    dt_strbuf_puts(out, "</p>\n");
    /* References as text: the page links to nothing outside itself. */
    for (size_t i = 0; i < f->reference_count; i++) {
        dt_strbuf_puts(out, "<p><em>See:</em> <code>");
        escaped(out, f->references[i]);
        dt_strbuf_puts(out, "</code></p>\n");
    }
    dt_strbuf_puts(out, "</div>\n");
}

static void stack_groups(dt_strbuf *out, const dt_stacks *stacks)
{
    size_t n, count;
    const dt_stack_group *groups = dt_stacks_groups(stacks, &n);
    const dt_thread_stack *threads = dt_stacks_threads(stacks, &count);
    char display[DISPLAY_SIZE];
    dt_strbuf_puts(out, "<h3>Stack groups</h3>\n");
    for (size_t g = 0; g < n; g++) {
        const dt_thread_stack *s = &threads[groups[g].threads[0]];
        dt_strbuf_printf(out, "<details><summary>%zu thread%s: ", groups[g].thread_count,
                         groups[g].thread_count == 1 ? "" : "s");
        for (size_t i = 0; i < groups[g].thread_count && i < 20; i++)
            dt_strbuf_printf(out, "%s%u", i ? ", " : "", threads[groups[g].threads[i]].thread->id);
        dt_strbuf_puts(out, "</summary><pre>");
        for (size_t i = 0; i < s->frame_count; i++) {
            dt_frame_display(&s->frames[i], display, sizeof display);
            dt_strbuf_printf(out, "%02zu  %-13s ", i, dt_frame_trust_name(s->frames[i].trust));
            escaped(out, display);
            dt_strbuf_puts(out, "\n");
        }
        dt_strbuf_puts(out, "</pre></details>\n");
    }
}

static void thread_table(dt_strbuf *out, const dt_triage *t)
{
    size_t n;
    const dt_thread_stack *threads = dt_stacks_threads(dt_triage_stacks(t), &n);
    char display[DISPLAY_SIZE];
    dt_strbuf_puts(out, "<h3>Threads</h3>\n<table><tr><th>id</th><th>state</th><th>wait</th>"
                        "<th>top frame</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const dt_thread_facts *facts = dt_triage_thread_facts(t, threads[i].thread->id);
        display[0] = '\0';
        if (threads[i].frame_count)
            dt_frame_display(&threads[i].frames[0], display, sizeof display);
        dt_strbuf_printf(out, "<tr><td>%u</td><td>%s</td><td>%s</td><td><code>",
                         threads[i].thread->id, facts ? dt_thread_state_name(facts->state) : "",
                         facts ? dt_wait_kind_name(facts->wait) : "");
        escaped(out, display);
        dt_strbuf_puts(out, "</code></td></tr>\n");
    }
    dt_strbuf_puts(out, "</table>\n");
}

static void module_table(dt_strbuf *out, const dt_dump *dump)
{
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    dt_strbuf_puts(out, "<h3>Modules</h3>\n<table><tr><th>name</th><th>base</th><th>size</th>"
                        "<th>timestamp</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        dt_strbuf_puts(out, "<tr><td>");
        escaped(out, modules[i].name);
        dt_strbuf_printf(out, "</td><td>0x%" PRIx64 "</td><td>0x%x</td><td>0x%08x</td></tr>\n",
                         modules[i].base, modules[i].size, modules[i].timestamp);
    }
    dt_strbuf_puts(out, "</table>\n");
}

char *dt_html_entry(const char *path, const dt_triage *t, const dt_error *err)
{
    dt_strbuf out = {0};
    dt_strbuf_puts(&out, "<section class=\"dump\" id=\"");
    section_id(&out, path);
    dt_strbuf_puts(&out, "\">\n<h2>");
    escaped(&out, path);
    dt_strbuf_printf(&out, "</h2>\n<p class=\"verdict%s\">%s", t ? "" : " unreadable",
                     t ? "" : "UNREADABLE: ");
    escaped(&out, t ? dt_triage_verdict(t) : err->message);
    dt_strbuf_puts(&out, "</p>\n");
    if (t) {
        size_t n;
        const dt_finding *findings = dt_triage_findings(t, &n);
        for (size_t i = 0; i < n; i++)
            finding(&out, &findings[i]);
        if (dt_triage_stacks(t)) {
            state_chart(&out, t);
            group_chart(&out, dt_triage_stacks(t));
            stack_groups(&out, dt_triage_stacks(t));
            thread_table(&out, t);
        }
        module_table(&out, dt_triage_dump(t));
    }
    dt_strbuf_puts(&out, "</section>\n");
    return dt_strbuf_take(&out);
}
