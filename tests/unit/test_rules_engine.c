/*
 * The rule engine on hand-built processes (tests/rules/rules_fixture.h):
 * frame globs and their equivalences, alternatives, gaps, anchoring,
 * thread counts and percentages, thread states, exception tests, every fact
 * operator, analyzers, templates with every placeholder, ordering of
 * findings, and the explain trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rules/rules_fixture.h"

#define FRAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static char *rule_text(const char *body)
{
    static const char head[] = "rules:\n  - id: t\n    title: T\n    severity: warning\n";
    char *text = malloc(sizeof head + strlen(body) + 1);
    strcpy(text, head);
    strcat(text, body);
    return text;
}

/* Evaluates one rule with `body` (4-space indented keys) and returns its
 * findings; fails the test when the rule does not parse. */
static dt_findings *evaluate(fake_process *f, const char *body)
{
    char *text = rule_text(body);
    dt_rule_set *set = parse_rules(text);
    free(text);
    assert_non_null(set);
    dt_findings *findings;
    assert_int_equal(dt_rules_evaluate_input(&findings, set, &f->input), DT_OK);
    dt_rule_set_free(set);
    return findings;
}

static size_t count_findings(fake_process *f, const char *body)
{
    dt_findings *findings = evaluate(f, body);
    size_t count;
    dt_findings_list(findings, &count);
    dt_findings_free(findings);
    return count;
}

static bool fires(fake_process *f, const char *body)
{
    return count_findings(f, body) > 0;
}

/* The first finding's summary, copied; NULL when nothing matched. */
static char *summary_of(fake_process *f, const char *body)
{
    dt_findings *findings = evaluate(f, body);
    size_t count;
    const dt_finding *list = dt_findings_list(findings, &count);
    char *summary = count ? strdup(list[0].summary) : NULL;
    dt_findings_free(findings);
    return summary;
}

static void assert_summary(fake_process *f, const char *body, const char *expected)
{
    char *summary = summary_of(f, body);
    assert_non_null(summary);
    assert_string_equal(summary, expected);
    free(summary);
}

#define STACK(frames_yaml) \
    "    match:\n      stack:\n        frames: " frames_yaml "\n    summary: s\n"
#define STACK_WITH(frames_yaml, more) \
    "    match:\n      stack:\n        frames: " frames_yaml "\n" more "    summary: s\n"

static fake_process *waiting_process(void)
{
    fake_process *f = fake_new("w3wp.exe");
    fake_thread(f, 100, DT_STATE_WAITING,
                FRAMES("ntdll.dll!ZwWaitForSingleObject", "KERNELBASE.dll!WaitForSingleObjectEx",
                       "clr.dll!AwareLock::Enter", "app.exe!Worker::Run", "app.exe!main"));
    return f;
}

/* ---- Globs --------------------------------------------------------------------- */

static void test_glob_star_and_question(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[\"app!Worker::*\"]")));
    assert_true(fires(f, STACK("[\"app!*::Run\"]")));
    assert_true(fires(f, STACK("[\"*!main\"]")));
    assert_true(fires(f, STACK("[\"app!Worker::Ru?\"]")));
    assert_false(fires(f, STACK("[\"app!Worker::R?\"]")));
    assert_false(fires(f, STACK("[\"app!Worker\"]")));
    assert_true(fires(f, STACK("[\"*!*\"]")));
    free(f);
}

/* The module's extension is ignored on both sides (dt_frame_name_matches). */
static void test_glob_case_and_extension(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[\"APP!worker::run\"]")));
    assert_true(fires(f, STACK("[\"app.exe!Worker::Run\"]")));
    assert_true(fires(f, STACK("[\"App.EXE!Worker::Run\"]")));
    assert_true(fires(f, STACK("[\"app.dll!Worker::Run\"]")));
    assert_false(fires(f, STACK("[\"apps!Worker::Run\"]")));
    free(f);
}

static void test_glob_equivalences(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[ntdll!NtWaitForSingleObject]")));
    assert_true(fires(f, STACK("[ntdll!ZwWaitForSingleObject]")));
    assert_true(fires(f, STACK("[kernel32!WaitForSingleObjectEx]")));
    assert_true(fires(f, STACK("[\"coreclr!AwareLock::Enter\"]")));
    assert_true(fires(f, STACK("[\"mscorwks!AwareLock::Enter\"]")));
    assert_false(fires(f, STACK("[\"user32!WaitForSingleObjectEx\"]")));
    free(f);
}

/* ---- Sequences ------------------------------------------------------------------ */

static void test_adjacent_patterns(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[\"clr!AwareLock::Enter\", \"app!Worker::Run\"]")));
    assert_false(fires(f, STACK("[\"clr!AwareLock::Enter\", app!main]")));
    assert_false(fires(f, STACK("[\"app!Worker::Run\", \"clr!AwareLock::Enter\"]")));
    free(f);
}

static void test_gaps(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[\"clr!AwareLock::Enter\", ..., app!main]")));
    assert_true(fires(f, STACK("[ntdll!NtWaitForSingleObject, ..., app!main]")));
    assert_true(fires(f, STACK("[ntdll!NtWaitForSingleObject, ..., ..., app!main]")));
    assert_true(fires(f, STACK("[\"clr!AwareLock::Enter\", ..., \"app!Worker::Run\"]")));
    assert_false(fires(f, STACK("[app!main, ..., \"clr!AwareLock::Enter\"]")));
    free(f);
}

static void test_alternatives(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, STACK("[[\"clr!Nope\", \"clr!AwareLock::Enter\"]]")));
    assert_true(fires(f, STACK("[[a!b, c!d, \"clr!Aware*\"], [\"app!Worker::Run\"]]")));
    assert_false(fires(f, STACK("[[a!b, c!d]]")));
    free(f);
}

static void test_anchoring(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
#define anchored "        anchored: true\n"
#define skipping "        anchored: true\n        skip_waits: true\n"
    assert_true(fires(f, STACK_WITH("[ntdll!NtWaitForSingleObject]", anchored)));
    assert_false(fires(f, STACK_WITH("[\"clr!AwareLock::Enter\"]", anchored)));
    assert_true(fires(f, STACK_WITH("[\"clr!AwareLock::Enter\"]", skipping)));
    assert_true(fires(f, STACK_WITH("[kernel32!WaitForSingleObjectEx]", skipping)));
    assert_false(fires(f, STACK_WITH("[\"app!Worker::Run\"]", skipping)));
    assert_true(fires(f, STACK_WITH("[..., \"app!Worker::Run\"]", anchored)));
    free(f);
    /* 32-bit system-call stubs above the call itself: x86 and WOW64. */
    static const char *const stubs[] = {"ntdll!KiFastSystemCallRet", "ntdll!Wow64SystemServiceCall"};
    for (size_t i = 0; i < 2; i++) {
        f = fake_new("w3wp.exe");
        fake_thread(f, 5, DT_STATE_WAITING, FRAMES(stubs[i], "ntdll!NtClose", "app!Stop"));
        assert_true(fires(f, STACK_WITH("[ntdll!NtClose, app!Stop]", skipping)));
        assert_false(fires(f, STACK_WITH("[ntdll!NtClose, app!Stop]", anchored)));
        free(f);
    }
#undef anchored
#undef skipping
}

/* ---- Counts, percentages, states -------------------------------------------------- */

static fake_process *pool_process(void)
{
    fake_process *f = fake_new("app.exe");
    for (uint32_t i = 0; i < 6; i++)
        fake_thread(f, 200 + i, DT_STATE_WAITING,
                    FRAMES("ntdll!NtWaitForMultipleObjects", "clr!AwareLock::Enter", "app!Get"));
    for (uint32_t i = 0; i < 3; i++)
        fake_thread(f, 300 + i, DT_STATE_IDLE,
                    FRAMES("ntdll!NtWaitForWorkViaWorkerFactory", "ntdll!TppWorkerThread"));
    fake_thread(f, 400, DT_STATE_RUNNING, FRAMES("app!Spin", "app!main"));
    return f;
}

static void test_minimum_threads_and_percent(void **state)
{
    (void)state;
    fake_process *f = pool_process();
#define frames "[\"clr!AwareLock::Enter\"]"
    assert_true(fires(f, STACK_WITH(frames, "        min_threads: 6\n")));
    assert_false(fires(f, STACK_WITH(frames, "        min_threads: 7\n")));
    assert_true(fires(f, STACK_WITH(frames, "        min_percent: 60\n")));
    assert_false(fires(f, STACK_WITH(frames, "        min_percent: 61%\n")));
    assert_true(fires(f, STACK_WITH(frames, "        min_threads: 6\n        min_percent: 60\n")));
    free(f);
#undef frames
}

static void test_idle_threads_never_match_by_default(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    assert_false(fires(f, STACK("[ntdll!TppWorkerThread]")));
    assert_true(fires(f, STACK_WITH("[ntdll!TppWorkerThread]", "        state: idle\n")));
    assert_false(fires(f, STACK_WITH("[app!Spin]", "        state: waiting\n")));
    assert_true(fires(f, STACK_WITH("[app!Spin]", "        state: [waiting, running]\n")));
    free(f);
}

static void test_unknown_state_fails_explicit_filter(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->input.thread_facts_count = 0;
    f->input.process = NULL;
    assert_true(fires(f, STACK("[app!Spin]")));
    assert_false(fires(f, STACK_WITH("[app!Spin]", "        state: running\n")));
    free(f);
}

/* ---- Facts ---------------------------------------------------------------------- */

static bool fact_holds(fake_process *f, const char *name, const char *op, const char *value)
{
    char body[512];
    snprintf(body, sizeof body, "    match:\n      fact: %s\n      %s: %s\n    summary: s\n",
             name, op, value);
    return fires(f, body);
}

static void test_fact_operators(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    assert_true(fact_holds(f, "thread_count", "eq", "10"));
    assert_false(fact_holds(f, "thread_count", "eq", "9"));
    assert_true(fact_holds(f, "thread_count", "ne", "9"));
    assert_true(fact_holds(f, "thread_count", "lt", "11"));
    assert_false(fact_holds(f, "thread_count", "lt", "10"));
    assert_true(fact_holds(f, "thread_count", "le", "10"));
    assert_true(fact_holds(f, "thread_count", "gt", "9"));
    assert_false(fact_holds(f, "thread_count", "gt", "10"));
    assert_true(fact_holds(f, "thread_count", "ge", "0xA"));
    assert_true(fact_holds(f, "thread_count", "in", "[1, 10]"));
    assert_false(fact_holds(f, "thread_count", "in", "[1, 2]"));
    assert_true(fact_holds(f, "process", "matches", "\"APP.*\""));
    assert_false(fact_holds(f, "process", "matches", "\"w3wp*\""));
    assert_true(fact_holds(f, "process", "eq", "App.exe"));
    assert_true(fact_holds(f, "process", "in", "[w3wp.exe, app.exe]"));
    assert_true(fact_holds(f, "idle_threads", "eq", "3"));
    assert_true(fact_holds(f, "waiting_threads", "eq", "6"));
    assert_true(fact_holds(f, "running_threads", "eq", "1"));
    free(f);
}

static void test_fact_units(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->process.has_uptime = true;
    f->process.uptime_seconds = 2 * 3600;
    f->process.private_committed = 3ull << 30;
    f->process.clr_loaded = true;
    f->process.clr_module = "clr.dll";
    assert_true(fact_holds(f, "uptime", "ge", "2h"));
    assert_false(fact_holds(f, "uptime", "gt", "120m"));
    assert_true(fact_holds(f, "uptime", "lt", "1d"));
    assert_true(fact_holds(f, "uptime", "eq", "7200s"));
    assert_true(fact_holds(f, "private_committed", "ge", "3GiB"));
    assert_true(fact_holds(f, "private_committed", "gt", "3071MiB"));
    assert_true(fact_holds(f, "committed", "eq", "3145728KiB"));
    assert_true(fact_holds(f, "clr_loaded", "eq", "true"));
    assert_true(fact_holds(f, "clr_module", "eq", "clr.dll"));
    f->process.has_uptime = false;
    assert_false(fact_holds(f, "uptime", "ge", "0"));
    assert_false(fact_holds(f, "uptime", "lt", "1d"));
    free(f);
}

static void test_facts_need_analysis(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->input.process = NULL;
    assert_true(fact_holds(f, "thread_count", "eq", "10"));
    assert_false(fact_holds(f, "idle_threads", "ge", "0"));
    assert_false(fact_holds(f, "clr_loaded", "eq", "false"));
    free(f);
}

static void test_all_any_not(void **state)
{
    (void)state;
    fake_process *f = pool_process();
#define YES "{fact: thread_count, eq: 10}"
#define NO "{fact: thread_count, eq: 1}"
    const struct { const char *match; bool held; } cases[] = {
        {"{all: [" YES ", " NO "]}", false}, {"{any: [" YES ", " NO "]}", true},
        {"{not: " YES "}", false}, {"{not: {all: [" YES ", " NO "]}}", true},
        {"[" YES ", " NO "]", false}, {"[" YES ", {not: " NO "}]", true}};
#undef YES
#undef NO
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "    match: %s\n    summary: s\n", cases[i].match);
        assert_int_equal(fires(f, body), cases[i].held);
    }
    free(f);
}

/* ---- Exceptions ----------------------------------------------------------------- */

static fake_process *crashed_process(uint32_t code, uint64_t access, uint64_t target)
{
    fake_process *f = fake_new("app.exe");
    fake_thread(f, 7, DT_STATE_WAITING, FRAMES("ntdll!NtWaitForSingleObject", "app!main"));
    size_t t = fake_thread(f, 9, DT_STATE_RUNNING, FRAMES("app!Crash", "app!Caller", "app!main"));
    fake_exception(f, t, code, 2, access, target);
    return f;
}

static bool exception_matches(fake_process *f, const char *condition)
{
    char body[512];
    snprintf(body, sizeof body, "    match:\n      exception: %s\n    summary: s\n", condition);
    return fires(f, body);
}

static void test_exception_conditions(void **state)
{
    (void)state;
    fake_process *f = crashed_process(0xC0000005, 1, 0x10);
    assert_true(exception_matches(f, "{}"));
    assert_true(exception_matches(f, "{code: 0xC0000005}"));
    assert_true(exception_matches(f, "{code: [0xC00000FD, 3221225477]}"));
    assert_false(exception_matches(f, "{code: 0xC00000FD}"));
    assert_true(exception_matches(f, "{access: write}"));
    assert_true(exception_matches(f, "{access: [read, write]}"));
    assert_false(exception_matches(f, "{access: execute}"));
    assert_true(exception_matches(f, "{target: {lt: 0x10000}}"));
    assert_false(exception_matches(f, "{target: {ge: 0x10000}}"));
    assert_true(exception_matches(f, "{parameters: [{index: 0, eq: 1}, {index: 1, eq: 16}]}"));
    assert_false(exception_matches(f, "{parameters: [{index: 2, eq: 0}]}"));
    f->input.exception = NULL;
    assert_false(exception_matches(f, "{}"));
    free(f);
}

static void test_stack_of_the_exception_thread(void **state)
{
    (void)state;
    fake_process *f = crashed_process(0xC0000005, 0, 0);
    assert_true(fires(f, STACK_WITH("[app!Caller]", "        thread: exception\n")));
    assert_false(fires(f, STACK_WITH("[ntdll!NtWaitForSingleObject]",
                                     "        thread: exception\n")));
    free(f);
}

/* ---- Templates ----------------------------------------------------------------- */

static void test_template_exception_placeholders(void **state)
{
    (void)state;
    fake_process *f = crashed_process(0xC0000005, 8, 0xdead0000);
    f->facts[1].recursion_depth = 40;
    f->facts[1].recursion_cycle = 2;
    assert_summary(f,
                   "    match: {exception: {}}\n"
                   "    summary: \"{code} {code_name} {thread} {access} {target} {module} {frame} "
                   "{depth} {cycle} {{literal}}\"\n",
                   "0xc0000005 EXCEPTION_ACCESS_VIOLATION 9 execute 0xdead0000 app app!Crash+0x10 "
                   "40 2 {literal}");
    assert_summary(f, "    match: {exception: {}}\n    summary: \"at {address}\"\n",
                   "at 0x20001000");
    free(f);
}

static void test_template_fail_fast_subcode(void **state)
{
    (void)state;
    fake_process *f = crashed_process(0xC0000409, 2, 0);
    assert_summary(f, "    match: {exception: {}}\n    summary: \"{subcode} {subcode_name}\"\n",
                   "2 FAST_FAIL_STACK_COOKIE_CHECK_FAILURE");
    free(f);
}

static void test_template_label_and_process_placeholders(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->process.has_uptime = true;
    f->process.uptime_seconds = 93784;
    assert_summary(f,
                   "    match:\n      stack:\n        label: waiters\n"
                   "        frames: [\"clr!AwareLock::Enter\"]\n"
                   "    summary: \"{waiters.count} of {thread_count} ({waiters.percent}%) "
                   "[{waiters}] first {waiters.first} in {waiters.frame} ({waiters.module}); "
                   "{process} {os} {cpu} up {uptime}\"\n",
                   "6 of 10 (60%) [200, 201, 202, 203, 204, 205] first 200 in "
                   "clr!AwareLock::Enter+0x11 (clr); app.exe Windows Server 2016 amd64 up "
                   "1d 02:03:04");
    free(f);
}

static void test_template_fallbacks(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    const char *body = "    match: {fact: thread_count, ge: 1}\n"
                       "    summary: [\"up {uptime}\", \"{thread_count} threads\"]\n";
    assert_summary(f, body, "10 threads");
    f->process.has_uptime = true;
    f->process.uptime_seconds = 59;
    assert_summary(f, body, "up 00:00:59");
    assert_summary(f, "    match: {fact: thread_count, ge: 1}\n    summary: \"{uptime}\"\n",
                   "00:00:59");
    f->process.has_uptime = false;
    assert_summary(f, "    match: {fact: thread_count, ge: 1}\n    summary: \"up {uptime}\"\n",
                   "up ?");
    free(f);
}

static void test_template_word_choice(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    const char *body = "    match: {fact: thread_count, ge: 1}\n"
                       "    summary: \"{thread_count} {thread_count:thread is|threads are} left\"\n";
    assert_summary(f, body, "10 threads are left");
    f->process.thread_count = 1;
    f->input.thread_count = 1;
    assert_summary(f, body, "1 thread is left");
    assert_summary(f, "    match: {fact: thread_count, ge: 1}\n"
                      "    summary: \"{uptime:day|days}\"\n", "days");
    free(f);
}

/* ---- Analyzers -------------------------------------------------------------------- */

static fake_process *deadlocked_process(void)
{
    fake_process *f = fake_new("app.exe");
    static const uint32_t ids[] = {10, 11};
    static const size_t lock_indices[] = {0, 1};
    static const uint32_t waiter_a[] = {10}, waiter_b[] = {11};
    fake_thread(f, 10, DT_STATE_WAITING,
                FRAMES("ntdll!NtWaitForAlertByThreadId", "ntdll!RtlpWaitOnCriticalSection",
                       "ntdll!RtlEnterCriticalSection", "app!TakeB", "app!main"));
    fake_thread(f, 11, DT_STATE_WAITING,
                FRAMES("ntdll!NtWaitForAlertByThreadId", "ntdll!RtlpWaitOnCriticalSection",
                       "ntdll!RtlEnterCriticalSection", "app!TakeA", "app!Worker"));
    fake_lock(f, (dt_lock){DT_LOCK_CRITICAL_SECTION, 0x1000, true, 11, true, -2, 1, 1, waiter_a});
    fake_lock(f, (dt_lock){DT_LOCK_CRITICAL_SECTION, 0x2000, true, 10, true, -2, 1, 1, waiter_b});
    f->deadlocks[f->deadlock_count++] = (dt_deadlock){2, ids, lock_indices};
    f->input.deadlock_count = f->deadlock_count;
    return f;
}

static void test_critical_section_deadlock_analyzer(void **state)
{
    (void)state;
    fake_process *f = deadlocked_process();
    const char *body = "    analyzer: critical_section_deadlock\n"
                       "    match: {fact: length, ge: 2}\n"
                       "    summary: \"{cycle} [{cycle_threads}]\"\n";
    dt_findings *findings = evaluate(f, body);
    size_t count;
    const dt_finding *list = dt_findings_list(findings, &count);
    assert_int_equal(count, 1);
    assert_string_equal(list[0].summary, "thread 10 waits for 0x1000 held by 11, which waits "
                                         "for 0x2000 held by 10 [10, 11]");
    assert_int_equal(list[0].thread_id_count, 2);
    assert_int_equal(list[0].lock_count, 2);
    assert_int_equal(list[0].locks[1].address, 0x2000);
    dt_findings_free(findings);
    f->input.process = NULL;
    assert_false(fires(f, body));
    free(f);
}

static void test_lock_contention_with_owner_stack(void **state)
{
    (void)state;
    fake_process *f = deadlocked_process();
    f->facts[0].wait = DT_WAIT_CRITICAL_SECTION;
    const char *body = "    analyzer: lock_contention\n"
                       "    match:\n"
                       "      all:\n"
                       "        - {fact: owner_state, eq: waiting}\n"
                       "        - {fact: owner_alive, eq: true}\n"
                       "        - {fact: kind, eq: critical_section}\n"
                       "        - {fact: lock, ge: 0x2000}\n"
                       "        - stack: {thread: owner, label: o, frames: [app!TakeB]}\n"
                       "        - stack: {thread: waiters, label: w, frames: [app!TakeA]}\n"
                       "    summary: \"{lock} {owner} {o.frame} {waiter_count} {waiters} "
                       "{percent} {owner_wait}\"\n";
    assert_summary(f, body, "0x2000 10 app!TakeB+0x13 1 11 50 critical_section");
    free(f);
}

static void test_thread_analyzers(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->facts[9].user_time = 900000000;
    f->facts[9].cpu_share = 0.9;
    f->facts[9].state = DT_STATE_RUNNING;
    f->facts[0].user_time = 100000000;
    f->facts[0].cpu_share = 0.1;
    f->facts[1].recursion_depth = 12;
    f->facts[1].recursion_cycle = 1;
    f->facts[1].recursion_start = 1;
    assert_int_equal(count_findings(f, "    analyzer: runaway_thread\n"
                                       "    match: {fact: cpu_share, ge: 50}\n"
                                       "    summary: \"{thread} {cpu_share}% {cpu_time} "
                                       "{state} {frame}\"\n"), 1);
    assert_summary(f, "    analyzer: runaway_thread\n    match: {fact: cpu_time, ge: 90s}\n"
                      "    summary: \"{thread} {cpu_share}% {cpu_time} {state} {frame}\"\n",
                   "400 90% 00:01:30 running app!Spin+0x10");
    assert_summary(f, "    analyzer: recursion\n    match: {fact: depth, ge: 10}\n"
                      "    summary: \"{thread} {depth} {cycle} {frame} {module}\"\n",
                   "201 12 1 clr!AwareLock::Enter+0x11 clr");
    free(f);
}

static void test_process_analyzers(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    f->process.thread_handles = 40;
    f->process.thread_handles_exited = 30;
    f->process.process_handles = 12;
    f->process.process_handles_exited = 11;
    f->process.private_committed = 3ull << 30;
    f->process.image_committed = 1ull << 30;
    assert_summary(f, "    analyzer: exited_thread_handles\n    match: {fact: exited, ge: 41}\n"
                      "    summary: \"{exited_threads}/{thread_handles} "
                      "{exited_processes}/{process_handles}\"\n",
                   "30/40 11/12");
    assert_summary(f, "    analyzer: memory_growth\n    match: {fact: private_percent, ge: 75}\n"
                      "    summary: \"{private_committed} of {committed}, {image_committed}\"\n",
                   "3.0 GiB of 4.0 GiB, 1.0 GiB");
    free(f);
}

/* ---- Findings and traces -------------------------------------------------------- */

static void test_findings_sorted_by_severity_then_id(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    static const char text[] =
        "rules:\n"
        "  - {id: b-info, title: B, severity: info, match: {fact: thread_count, ge: 1}, summary: s}\n"
        "  - {id: z-error, title: Z, severity: error, match: {fact: thread_count, ge: 1}, summary: s}\n"
        "  - {id: a-warning, title: A, severity: warning, match: {fact: thread_count, ge: 1}, summary: s}\n"
        "  - {id: a-error, title: A, severity: error, match: {fact: thread_count, ge: 1}, summary: s}\n";
    dt_rule_set *set = parse_rules(text);
    assert_non_null(set);
    dt_findings *findings;
    assert_int_equal(dt_rules_evaluate_input(&findings, set, &f->input), DT_OK);
    size_t count;
    const dt_finding *list = dt_findings_list(findings, &count);
    assert_int_equal(count, 4);
    assert_string_equal(list[0].rule_id, "a-error");
    assert_string_equal(list[1].rule_id, "z-error");
    assert_string_equal(list[2].rule_id, "a-warning");
    assert_string_equal(list[3].rule_id, "b-info");
    dt_findings_free(findings);
    dt_rule_set_free(set);
    free(f);
}

static void test_finding_evidence(void **state)
{
    (void)state;
    fake_process *f = pool_process();
    dt_findings *findings = evaluate(f, "    match:\n      stack:\n        label: w\n"
                                        "        frames: [ntdll!NtWaitForMultipleObjects, ..., app!Get]\n"
                                        "    summary: s\n");
    size_t count;
    const dt_finding *list = dt_findings_list(findings, &count);
    assert_int_equal(count, 1);
    assert_int_equal(list[0].thread_id_count, 6);
    assert_int_equal(list[0].evidence_count, 6);
    assert_string_equal(list[0].evidence[0].label, "w");
    assert_int_equal(list[0].evidence[0].frame_count, 2);
    assert_int_equal(list[0].evidence[0].frame_indices[1], 2);
    assert_string_equal(list[0].evidence[0].frames[1], "app!Get+0x12");
    dt_findings_free(findings);
    free(f);
}

static void test_explain_reports_the_failing_condition(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    char *text = rule_text("    match:\n"
                           "      all:\n"
                           "        - {fact: thread_count, eq: 1}\n"
                           "        - stack:\n"
                           "            frames: [\"clr!AwareLock::Enter\", app!main]\n"
                           "    summary: s\n");
    dt_rule_set *set = parse_rules(text);
    free(text);
    dt_rule_trace *trace;
    assert_int_equal(dt_rules_explain(&trace, set, 0, &f->input), DT_OK);
    size_t count, findings;
    const dt_trace_step *steps = dt_rule_trace_steps(trace, &count);
    dt_rule_trace_findings(trace, &findings);
    assert_int_equal(findings, 0);
    assert_int_equal(count, 4);
    assert_string_equal(steps[2].what, "fact thread_count eq 1");
    assert_true(steps[2].held);
    assert_string_equal(steps[3].what, "stack threads");
    assert_false(steps[3].held);
    assert_int_equal(steps[3].line, 8);
    assert_int_equal(steps[3].column, 11);
    assert_non_null(strstr(steps[3].detail, "closest: thread 100 matched 1 of 2 patterns; "
                                            "'app!main' did not match frame #3"));
    dt_rule_trace_free(trace);
    dt_rule_set_free(set);
    free(f);
}

static void test_applies_to(void **state)
{
    (void)state;
    fake_process *f = waiting_process();
    assert_true(fires(f, "    applies_to: {process: \"W3WP*\", os: \"Windows*\", cpu: amd64}\n"
                         "    match: {fact: thread_count, ge: 1}\n    summary: s\n"));
    assert_false(fires(f, "    applies_to: {process: [app.exe, svchost.exe]}\n"
                          "    match: {fact: thread_count, ge: 1}\n    summary: s\n"));
    assert_false(fires(f, "    applies_to: {cpu: [x86, arm64]}\n"
                          "    match: {fact: thread_count, ge: 1}\n    summary: s\n"));
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_star_and_question),
        cmocka_unit_test(test_glob_case_and_extension),
        cmocka_unit_test(test_glob_equivalences),
        cmocka_unit_test(test_adjacent_patterns),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_anchoring),
        cmocka_unit_test(test_minimum_threads_and_percent),
        cmocka_unit_test(test_idle_threads_never_match_by_default),
        cmocka_unit_test(test_unknown_state_fails_explicit_filter),
        cmocka_unit_test(test_fact_operators),
        cmocka_unit_test(test_fact_units),
        cmocka_unit_test(test_facts_need_analysis),
        cmocka_unit_test(test_all_any_not),
        cmocka_unit_test(test_exception_conditions),
        cmocka_unit_test(test_stack_of_the_exception_thread),
        cmocka_unit_test(test_template_exception_placeholders),
        cmocka_unit_test(test_template_fail_fast_subcode),
        cmocka_unit_test(test_template_label_and_process_placeholders),
        cmocka_unit_test(test_template_fallbacks),
        cmocka_unit_test(test_template_word_choice),
        cmocka_unit_test(test_critical_section_deadlock_analyzer),
        cmocka_unit_test(test_lock_contention_with_owner_stack),
        cmocka_unit_test(test_thread_analyzers),
        cmocka_unit_test(test_process_analyzers),
        cmocka_unit_test(test_findings_sorted_by_severity_then_id),
        cmocka_unit_test(test_finding_evidence),
        cmocka_unit_test(test_explain_reports_the_failing_condition),
        cmocka_unit_test(test_applies_to),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
