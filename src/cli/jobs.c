/* A small thread pool: workers take the next index from a shared counter. */
#include "cli/jobs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { MAX_JOBS = 256 };

typedef struct pool {
    size_t count;
    job_task task;
    void *ctx;
    atomic_size_t next;
    atomic_size_t done;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count)
            return NULL;
        p->task(p->ctx, i);
        atomic_fetch_add(&p->done, 1);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(pool *p, double start, bool final)
{
    size_t done = atomic_load(&p->done);
    double elapsed = now() - start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double eta = rate > 0 ? (double)(p->count - done) / rate : 0;
    fprintf(stderr, "\r%zu/%zu dumps, %.1f/s, ETA %.0fs   %s", done, p->count, rate, eta,
            final ? "\n" : "");
}

unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

void run_jobs(size_t count, unsigned jobs, job_task task, void *ctx, bool progress)
{
    pool p = {count, task, ctx, 0, 0};
    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    if (jobs > count)
        jobs = count ? (unsigned)count : 1;
    pthread_t threads[MAX_JOBS];
    unsigned started = 0;
    for (unsigned i = 1; i < jobs; i++)
        if (pthread_create(&threads[started], NULL, worker, &p) == 0)
            started++;
    double start = now();
    if (!progress) {
        worker(&p);
    } else {
        /* The calling thread works too, reporting between tasks. */
        for (size_t i; (i = atomic_fetch_add(&p.next, 1)) < count;) {
            task(ctx, i);
            atomic_fetch_add(&p.done, 1);
            show_progress(&p, start, false);
        }
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (progress)
        show_progress(&p, start, true);
}
