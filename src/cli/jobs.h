/* Running one task per input on N threads. Results are stored by index, so
 * output order never depends on timing. */
#ifndef DT_CLI_JOBS_H
#define DT_CLI_JOBS_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*job_task)(void *ctx, size_t index);

/* Runs task(ctx, i) for every i < count on `jobs` threads (1 = inline).
 * With `progress`, stderr shows done/total, rate and ETA. */
void run_jobs(size_t count, unsigned jobs, job_task task, void *ctx, bool progress);
/* The number of online processors, at least 1. */
unsigned default_jobs(void);

#endif
