/*
 * Frame patterns against one thread's stack. A pattern list is split by
 * "..." gaps into segments of consecutive frames; each segment is placed at
 * its earliest position after the previous one, which is optimal because
 * gaps absorb any number of frames and the stack may continue below the
 * last segment. Frame names are compared by dt_frame_name_matches.
 */
#include "rules/rules_internal.h"

/* Frames a thread passes through to block; `skip_waits` may skip them
 * before an anchored pattern. */
static const char *const wait_primitives[] = {
    "ntdll!NtWaitFor*",
    "ntdll!NtDelayExecution",
    "ntdll!NtSignalAndWaitForSingleObject",
    "ntdll!NtRemoveIoCompletion*",
    "ntdll!KiFastSystemCallRet",
    "ntdll!KiIntSystemCall",
    "ntdll!Wow64SystemServiceCall",
    "ntdll!RtlpWaitOnCriticalSection",
    "ntdll!RtlpWaitForCriticalSection",
    "ntdll!RtlpWaitOnAddress*",
    "ntdll!RtlWaitOnAddress",
    "ntdll!RtlSleepConditionVariable*",
    "ntdll!RtlAcquireSRWLock*",
    "kernel32!WaitFor*",
    "kernel32!Sleep",
    "kernel32!SleepEx",
    "kernel32!SleepConditionVariable*",
    "kernel32!SignalObjectAndWait",
    "user32!MsgWaitForMultipleObjects*",
    "user32!NtUserWaitMessage",
    "win32u!NtUserMsgWaitForMultipleObjectsEx",
};

static bool frame_is_wait_primitive(const dt_frame *frame)
{
    for (size_t i = 0; i < sizeof wait_primitives / sizeof wait_primitives[0]; i++)
        if (dt_frame_name_matches(wait_primitives[i], frame))
            return true;
    return false;
}

static bool item_matches(const frame_item *item, const dt_frame *frame)
{
    for (size_t i = 0; i < item->alt_count; i++)
        if (dt_frame_name_matches(item->alts[i], frame))
            return true;
    return false;
}

/* Items [first, end) of the pattern: the segment starting at `first`. */
static size_t segment_end(const stack_cond *cond, size_t first)
{
    size_t end = first;
    while (end < cond->item_count && !cond->items[end].gap)
        end++;
    return end;
}

/* How many items of the segment match at frame `at` (all of them on success). */
static size_t segment_prefix(const stack_cond *cond, size_t first, size_t end,
                             const dt_thread_stack *thread, size_t at)
{
    size_t n = 0;
    while (first + n < end && at + n < thread->frame_count &&
           item_matches(&cond->items[first + n], &thread->frames[at + n]))
        n++;
    return n;
}

typedef struct attempt {
    const stack_cond *cond;
    const dt_thread_stack *thread;
    stack_match *out;        /* frames of the current attempt */
    stack_match *best;       /* the best attempt so far */
} attempt;

static void note_miss(attempt *a, size_t matched, size_t failed_item, size_t failed_frame)
{
    if (a->best->matched || matched < a->best->matched_items ||
        (matched == a->best->matched_items && a->best->failed_item != (size_t)-1))
        return;
    *a->best = *a->out;
    a->best->matched_items = matched;
    a->best->failed_item = failed_item;
    a->best->failed_frame = failed_frame;
}

/* Places the segment [first, end) at `at` exactly, or at the earliest
 * position from `at` when `float_start`. Returns the frame after it, or
 * (size_t)-1 on a miss. */
static size_t place_segment(attempt *a, size_t first, size_t end, size_t at, bool float_start)
{
    size_t length = end - first, last = float_start ? a->thread->frame_count : at + 1;
    size_t done = a->out->frame_count;
    for (size_t q = at; q < last; q++) {
        size_t prefix = segment_prefix(a->cond, first, end, a->thread, q);
        if (prefix == length) {
            for (size_t j = 0; j < length; j++)
                a->out->frames[a->out->frame_count++] = q + j;
            return q + length;
        }
        for (size_t j = 0; j < prefix; j++)
            a->out->frames[done + j] = q + j;
        a->out->frame_count = done + prefix;
        note_miss(a, done + prefix, first + prefix, q + prefix);
        a->out->frame_count = done;
    }
    if (at >= a->thread->frame_count)
        note_miss(a, done, first, at);
    return (size_t)-1;
}

/* One attempt with the first segment at `start` (or floating). */
static bool match_from(attempt *a, size_t start, bool anchored)
{
    a->out->frame_count = 0;
    size_t pos = start, item = 0;
    bool gap = !anchored;
    while (item < a->cond->item_count) {
        if (a->cond->items[item].gap) {
            gap = true;
            item++;
            continue;
        }
        size_t end = segment_end(a->cond, item);
        pos = place_segment(a, item, end, pos, gap);
        if (pos == (size_t)-1)
            return false;
        gap = false;
        item = end;
    }
    return true;
}

static size_t leading_waits(const dt_thread_stack *thread)
{
    size_t n = 0;
    while (n < thread->frame_count && frame_is_wait_primitive(&thread->frames[n]))
        n++;
    return n;
}

void stack_match_thread(const stack_cond *cond, const dt_thread_stack *thread, stack_match *out)
{
    stack_match current = {0}, best = {.failed_item = (size_t)-1};
    attempt a = {cond, thread, &current, &best};
    size_t last_start = cond->anchored && cond->skip_waits ? leading_waits(thread) : 0;
    for (size_t start = 0; start <= last_start; start++) {
        if (match_from(&a, start, cond->anchored)) {
            *out = current;
            out->matched = true;
            out->matched_items = current.frame_count;
            return;
        }
    }
    *out = best;
    out->matched = false;
}
