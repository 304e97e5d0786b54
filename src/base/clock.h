/* Monotonic time for the optional per-dump time budget. */
#ifndef DT_BASE_CLOCK_H
#define DT_BASE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t dt_clock_ns(void);
/* Whether `deadline_ns` (a dt_clock_ns value; 0 means none) has passed. */
bool dt_clock_past(uint64_t deadline_ns);

#endif
