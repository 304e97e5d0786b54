/*
 * Process-wide facts: name, threads, uptime, the CLR, handles to exited
 * threads and processes, committed memory by type, and each thread's CPU
 * time and share.
 */
#include "analysis/analysis_internal.h"
#include "base/checked.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    STATUS_PENDING = 0x103,          /* ExitStatus of a thread or process still running */
    MEM_COMMIT = 0x1000,
    MEM_PRIVATE = 0x20000,
    MEM_MAPPED = 0x40000,
    MEM_IMAGE = 0x1000000
};

static const char *const clr_modules[] = {"clr.dll", "coreclr.dll", "mscorwks.dll",
                                          "mscorsvr.dll"};

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    uint64_t sum;
    return dt_add_u64(a, b, &sum) ? sum : UINT64_MAX;
}

static void find_clr(const dt_dump *dump, dt_process_facts *p)
{
    size_t count = 0;
    const dt_module *modules = dt_dump_modules(dump, &count);
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < sizeof clr_modules / sizeof clr_modules[0]; k++) {
            if (!modules[i].name || strcasecmp(modules[i].name, clr_modules[k]) != 0)
                continue;
            p->clr_loaded = true;
            p->clr_module = clr_modules[k];
            if (modules[i].has_version)
                snprintf(p->clr_version, sizeof p->clr_version, "%u.%u.%u.%u",
                         modules[i].version[0], modules[i].version[1], modules[i].version[2],
                         modules[i].version[3]);
            return;
        }
    }
}

/* A Thread handle's object has exited when THREAD_BASIC_INFORMATION says so
 * (ExitStatus other than STATUS_PENDING), or when it names a thread of this
 * process that is not among the dump's threads. */
static bool thread_handle_exited(const dt_dump *dump, const dt_handle *h, uint32_t process_id)
{
    if (!h->has_exit_status)
        return false;
    if (h->exit_status != STATUS_PENDING)
        return true;
    return process_id != 0 && h->owner_process_id == process_id && h->owner_thread_id != 0 &&
           !dt_dump_thread_by_id(dump, h->owner_thread_id);
}

static void count_handles(const dt_dump *dump, dt_process_facts *p)
{
    size_t count = 0;
    const dt_handle *handles = dt_dump_handles(dump, &count);
    const dt_misc_info *misc = dt_dump_misc_info(dump);
    uint32_t process_id = misc && (misc->flags1 & DT_MISC1_PROCESS_ID) ? misc->process_id : 0;
    p->handle_count = count;
    for (size_t i = 0; i < count; i++) {
        const dt_handle *h = &handles[i];
        const char *type = h->type_name ? h->type_name : "";
        if (strcmp(type, "Thread") == 0) {
            p->thread_handles++;
            p->thread_handles_exited += thread_handle_exited(dump, h, process_id);
        } else if (strcmp(type, "Process") == 0) {
            p->process_handles++;
            p->process_handles_exited += h->has_exit_status && h->exit_status != STATUS_PENDING;
        }
    }
}

/* MINIDUMP_MEMORY_INFO: committed regions summed by Type. */
static void sum_committed_memory(const dt_dump *dump, dt_process_facts *p)
{
    size_t count = 0;
    const dt_memory_info *infos = dt_dump_memory_infos(dump, &count);
    for (size_t i = 0; i < count; i++) {
        if (infos[i].state != MEM_COMMIT)
            continue;
        uint64_t size = infos[i].region_size;
        if (infos[i].type == MEM_PRIVATE)
            p->private_committed = saturating_add(p->private_committed, size);
        else if (infos[i].type == MEM_IMAGE)
            p->image_committed = saturating_add(p->image_committed, size);
        else if (infos[i].type == MEM_MAPPED)
            p->mapped_committed = saturating_add(p->mapped_committed, size);
    }
    const dt_vm_counters *vm = dt_dump_vm_counters(dump);
    if (vm)
        p->private_usage = vm->private_usage;
}

/* ThreadInfoList times (100 ns) and each thread's share of the process's
 * user + kernel time. */
static void thread_cpu(dt_analysis *a)
{
    uint64_t total = 0;
    for (size_t i = 0; i < a->thread_count; i++) {
        dt_thread_facts *t = &a->threads[i];
        const dt_thread *thread = a->work[i].stack->thread;
        if (!thread || !thread->has_times)
            continue;
        t->user_time = thread->times.user_time;
        t->kernel_time = thread->times.kernel_time;
        a->process.total_user_time = saturating_add(a->process.total_user_time, t->user_time);
        total = saturating_add(total, saturating_add(t->user_time, t->kernel_time));
    }
    for (size_t i = 0; i < a->thread_count && total > 0; i++) {
        dt_thread_facts *t = &a->threads[i];
        t->cpu_share = (double)saturating_add(t->user_time, t->kernel_time) / (double)total;
    }
}

void an_process_facts(dt_analysis *a)
{
    dt_process_facts *p = &a->process;
    const char *name = dt_dump_process_name(a->dump);
    p->name = name ? dt_arena_strndup(&a->arena, name, strlen(name)) : NULL;
    dt_dump_threads(a->dump, &p->thread_count);
    p->has_uptime = dt_dump_process_uptime(a->dump, &p->uptime_seconds);
    find_clr(a->dump, p);
    count_handles(a->dump, p);
    sum_committed_memory(a->dump, p);
    thread_cpu(a);
}
