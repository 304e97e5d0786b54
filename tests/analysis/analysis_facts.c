/*
 * analysis_facts DUMP [-i IMAGES]... [-s SYMBOLS]...
 *
 * Test helper: opens a dump, finds images and symbols offline in the given
 * paths, walks and symbolizes every thread, runs dt_analyze_process and
 * prints the facts as JSON on standard output (read by
 * tests/analysis/test_analysis_facts.py). Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dumptriage/analysis.h"

enum { MAX_PATHS = 8 };

typedef struct facts_job {
    const char *dump_path;
    const char *images[MAX_PATHS];
    size_t image_count;
    const char *symbols[MAX_PATHS];
    size_t symbol_count;
} facts_job;

static bool parse_args(int argc, char **argv, facts_job *job)
{
    for (int i = 1; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "-i") == 0 && has_value && job->image_count < MAX_PATHS)
            job->images[job->image_count++] = argv[++i];
        else if (strcmp(argv[i], "-s") == 0 && has_value && job->symbol_count < MAX_PATHS)
            job->symbols[job->symbol_count++] = argv[++i];
        else if (!job->dump_path && argv[i][0] != '-')
            job->dump_path = argv[i];
        else
            return false;
    }
    return job->dump_path != NULL;
}

/* Writes a string as a JSON literal (names from dumps may hold anything). */
static void print_string(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void print_top_frame(const dt_thread_stack *stack)
{
    char display[256] = "";
    if (stack->frame_count > 0)
        dt_frame_display(&stack->frames[0], display, sizeof display);
    print_string(display);
}

static void print_thread(const dt_thread_facts *t, const dt_thread_stack *stack)
{
    printf("    {\"id\": %u, \"state\": \"%s\", \"wait\": \"%s\", \"wait_function\": ",
           t->thread_id, dt_thread_state_name(t->state), dt_wait_kind_name(t->wait));
    print_string(t->wait_function);
    if (t->has_wait_object)
        printf(", \"wait_object\": \"0x%llx\"", (unsigned long long)t->wait_object);
    else
        fputs(", \"wait_object\": null", stdout);
    printf(", \"user_time\": %llu, \"kernel_time\": %llu, \"cpu_share\": %.6f",
           (unsigned long long)t->user_time, (unsigned long long)t->kernel_time, t->cpu_share);
    printf(", \"recursion\": {\"cycle\": %zu, \"depth\": %zu, \"start\": %zu}",
           t->recursion_cycle, t->recursion_depth, t->recursion_start);
    printf(", \"frames\": %zu, \"top\": ", stack->frame_count);
    print_top_frame(stack);
    putchar('}');
}

static void print_threads(const dt_analysis *a, const dt_stacks *stacks)
{
    size_t count = 0, stack_count = 0;
    const dt_thread_facts *threads = dt_analysis_threads(a, &count);
    const dt_thread_stack *thread_stacks = dt_stacks_threads(stacks, &stack_count);
    puts("  \"threads\": [");
    for (size_t i = 0; i < count; i++) {
        print_thread(&threads[i], &thread_stacks[threads[i].stack_index]);
        puts(i + 1 < count ? "," : "");
    }
    puts("  ],");
}

static void print_lock(const dt_lock *l)
{
    printf("    {\"kind\": \"%s\", \"address\": \"0x%llx\", \"owner_thread_id\": ",
           dt_lock_kind_name(l->kind), (unsigned long long)l->address);
    if (l->has_owner)
        printf("%u", l->owner_thread_id);
    else
        fputs("null", stdout);
    printf(", \"owner_alive\": %s, \"lock_count\": %d, \"recursion_count\": %d, "
           "\"waiter_thread_ids\": [",
           l->owner_alive ? "true" : "false", l->lock_count, l->recursion_count);
    for (size_t k = 0; k < l->waiter_count; k++)
        printf("%s%u", k ? ", " : "", l->waiter_thread_ids[k]);
    fputs("]}", stdout);
}

static void print_locks_and_deadlocks(const dt_analysis *a)
{
    size_t count = 0;
    const dt_lock *locks = dt_analysis_locks(a, &count);
    puts("  \"locks\": [");
    for (size_t i = 0; i < count; i++) {
        print_lock(&locks[i]);
        puts(i + 1 < count ? "," : "");
    }
    puts("  ],");
    const dt_deadlock *deadlocks = dt_analysis_deadlocks(a, &count);
    fputs("  \"deadlocks\": [", stdout);
    for (size_t i = 0; i < count; i++) {
        fputs(i ? ", {\"thread_ids\": [" : "{\"thread_ids\": [", stdout);
        for (size_t k = 0; k < deadlocks[i].thread_count; k++)
            printf("%s%u", k ? ", " : "", deadlocks[i].thread_ids[k]);
        fputs("], \"lock_indices\": [", stdout);
        for (size_t k = 0; k < deadlocks[i].thread_count; k++)
            printf("%s%zu", k ? ", " : "", deadlocks[i].lock_indices[k]);
        fputs("]}", stdout);
    }
    puts("],");
}

static void print_process(const dt_analysis *a, const dt_dump *dump)
{
    const dt_process_facts *p = dt_analysis_process(a);
    printf("  \"dump_kind\": \"%s\",\n  \"process\": {\"name\": ",
           dt_dump_kind_name(dt_dump_kind_get(dump)));
    print_string(p->name);
    printf(", \"thread_count\": %zu, \"uptime_seconds\": ", p->thread_count);
    if (p->has_uptime)
        printf("%llu", (unsigned long long)p->uptime_seconds);
    else
        fputs("null", stdout);
    printf(", \"clr_module\": ");
    print_string(p->clr_module);
    printf(", \"clr_version\": \"%s\", \"handle_count\": %zu, \"thread_handles\": %zu, "
           "\"thread_handles_exited\": %zu, \"process_handles\": %zu, "
           "\"process_handles_exited\": %zu, \"private_committed\": %llu, "
           "\"image_committed\": %llu, \"mapped_committed\": %llu, \"private_usage\": %llu, "
           "\"total_user_time\": %llu},\n",
           p->clr_version, p->handle_count, p->thread_handles, p->thread_handles_exited,
           p->process_handles, p->process_handles_exited,
           (unsigned long long)p->private_committed, (unsigned long long)p->image_committed,
           (unsigned long long)p->mapped_committed, (unsigned long long)p->private_usage,
           (unsigned long long)p->total_user_time);
}

static void print_diagnostics(const dt_analysis *a)
{
    size_t count = 0;
    const dt_diagnostic *d = dt_analysis_diagnostics(a, &count);
    fputs("  \"diagnostics\": [", stdout);
    for (size_t i = 0; i < count; i++) {
        fputs(i ? ", " : "", stdout);
        print_string(d[i].message);
    }
    puts("]");
}

static int analyze(const dt_dump *dump, dt_image_set *images, dt_symbolizer *symbols)
{
    dt_stacks *stacks = NULL;
    dt_analysis *analysis = NULL;
    dt_walk_options walk = {.images = images};
    if (dt_walk_threads(&stacks, dump, &walk) != DT_OK ||
        dt_stacks_symbolize(stacks, symbols) != DT_OK ||
        dt_analyze_process(&analysis, dump, stacks) != DT_OK) {
        fputs("analysis_facts: out of memory\n", stderr);
        dt_stacks_free(stacks);
        return 1;
    }
    puts("{");
    print_process(analysis, dump);
    print_threads(analysis, stacks);
    print_locks_and_deadlocks(analysis);
    print_diagnostics(analysis);
    puts("}");
    dt_analysis_free(analysis);
    dt_stacks_free(stacks);
    return 0;
}

static int run(const dt_dump *dump, const facts_job *job)
{
    dt_image_search image_search = {job->images, job->image_count, false, true, true};
    dt_image_set *images = NULL;
    dt_symbolizer *symbols = NULL;
    dt_error err = {0};
    int code = 1;
    if (dt_image_set_new(&images, dump, &image_search, &err) == DT_OK) {
        dt_symbol_search symbol_search = {job->symbols, job->symbol_count, false, true, images};
        if (dt_symbolizer_new(&symbols, dump, &symbol_search, &err) == DT_OK)
            code = analyze(dump, images, symbols);
    }
    if (code != 0 && err.message[0])
        fprintf(stderr, "analysis_facts: %s\n", err.message);
    dt_symbolizer_free(symbols);
    dt_image_set_free(images);
    return code;
}

int main(int argc, char **argv)
{
    facts_job job = {0};
    if (!parse_args(argc, argv, &job)) {
        fputs("usage: analysis_facts DUMP [-i IMAGES]... [-s SYMBOLS]...\n", stderr);
        return 1;
    }
    dt_dump *dump = NULL;
    dt_error err = {0};
    if (dt_dump_open(&dump, job.dump_path, NULL, &err) != DT_OK) {
        fprintf(stderr, "analysis_facts: %s\n", err.message);
        return 1;
    }
    int code = run(dump, &job);
    dt_dump_free(dump);
    return code;
}
