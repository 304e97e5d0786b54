#include "base/clock.h"

#include <time.h>

uint64_t dt_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool dt_clock_past(uint64_t deadline_ns)
{
    return deadline_ns != 0 && dt_clock_ns() >= deadline_ns;
}
