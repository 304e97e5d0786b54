/*
 * Recursion: the longest repeating frame cycle of a thread.
 *
 * Frames are compared by instruction address (a caller frame's return
 * address), so a cycle is a run of identical call sites. For each cycle
 * length L (1..16), frame i "repeats" when frame i+L has the same address;
 * r consecutive repeats starting at s mean the frames s..s+r+L-1 are
 * (r+L)/L repetitions of the L frames at s. The cycle covering the most
 * frames wins; on a tie, the shorter cycle, then the one nearer the top.
 * Work is O(16 x frames), frames capped at AN_RECURSION_FRAMES.
 */
#include "analysis/analysis_internal.h"

enum { AN_MAX_CYCLE = 16, AN_RECURSION_FRAMES = 65536 };

typedef struct cycle_choice {
    size_t covered;          /* frames inside the repetitions */
    size_t length;
    size_t depth;
    size_t start;
} cycle_choice;

static void consider_run(cycle_choice *best, size_t length, size_t run, size_t last)
{
    size_t depth = (run + length) / length;
    size_t covered = depth * length;
    if (depth >= 2 && covered > best->covered)
        *best = (cycle_choice){covered, length, depth, last + 1 - run};
}

static void scan_cycle_length(const dt_frame *frames, size_t count, size_t length,
                              cycle_choice *best)
{
    size_t run = 0;
    for (size_t i = 0; i + length < count; i++) {
        if (frames[i].ip == frames[i + length].ip) {
            run++;
            continue;
        }
        if (run > 0)
            consider_run(best, length, run, i - 1);
        run = 0;
    }
    if (run > 0)
        consider_run(best, length, run, count - length - 1);
}

void an_find_recursion(dt_thread_facts *facts, const dt_thread_stack *stack)
{
    size_t count = stack->frame_count < AN_RECURSION_FRAMES ? stack->frame_count
                                                              : AN_RECURSION_FRAMES;
    facts->recursion_depth = count > 0 ? 1 : 0;
    facts->recursion_cycle = 0;
    facts->recursion_start = 0;
    if (!stack->frames)
        return;
    cycle_choice best = {0, 0, 0, 0};
    for (size_t length = 1; length <= AN_MAX_CYCLE && 2 * length <= count; length++)
        scan_cycle_length(stack->frames, count, length, &best);
    if (best.depth < 2)
        return;
    facts->recursion_depth = best.depth;
    facts->recursion_cycle = best.length;
    facts->recursion_start = best.start;
}
