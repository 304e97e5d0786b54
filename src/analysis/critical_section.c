/*
 * Which RTL_CRITICAL_SECTION a waiting thread waits on, read from dump
 * memory (full dumps; mini dumps do not hold the structure).
 *
 * RTL_CRITICAL_SECTION (winnt.h / ntdll), x64 offsets, x86 in brackets:
 *   DebugInfo       PRTL_CRITICAL_SECTION_DEBUG  0x00 [0x00]
 *   LockCount       LONG                         0x08 [0x04]
 *   RecursionCount  LONG                         0x0C [0x08]
 *   OwningThread    HANDLE (the owner's id)      0x10 [0x0C]
 *   LockSemaphore   HANDLE                       0x18 [0x10]
 *   SpinCount       ULONG_PTR                    0x20 [0x14]
 * RTL_CRITICAL_SECTION_DEBUG: Type WORD, CreatorBackTraceIndex WORD, then
 * CriticalSection (a pointer back to the section) at 0x08 [0x04].
 *
 * The argument of RtlEnterCriticalSection is not kept in a fixed place, so
 * candidates are gathered from the thread's frame-0 registers (and each
 * minus the LockSemaphore offset: Wine waits on &LockSemaphore) and from
 * every pointer-sized word of the stack between frame 0 and the home area of
 * the outermost critical-section frame. A candidate must validate; the one
 * with the strongest evidence wins, the first found on a tie.
 */
#include "analysis/analysis_internal.h"
#include "base/cursor.h"

enum {
    MAX_SCAN_BYTES = 0x2000,   /* stack bytes searched per waiter */
    HOME_AREA_WORDS = 4,       /* the caller's spill slots for four arguments */
    MAX_RECURSION = 0xFFFF,
    SCORE_OWNER_PRESENT = 4,
    SCORE_DEBUG_LINKED = 4,
    SCORE_HAS_WAITERS = 2,
    SCORE_OWNER_PLAUSIBLE = 1,
    SCORE_REQUIRED = 4
};

typedef struct cs_layout {
    unsigned pointer_size;
    unsigned lock_count;
    unsigned recursion_count;
    unsigned owning_thread;
    unsigned lock_semaphore;
    unsigned size;
    unsigned debug_critical_section;
} cs_layout;

static const cs_layout x64_layout = {8, 0x08, 0x0C, 0x10, 0x18, 0x28, 0x08};
static const cs_layout x86_layout = {4, 0x04, 0x08, 0x0C, 0x10, 0x18, 0x04};

static const int x64_candidate_registers[] = {
    DT_AMD64_R10, DT_AMD64_RCX, DT_AMD64_RBX, DT_AMD64_RBP, DT_AMD64_RSI, DT_AMD64_RDI,
    DT_AMD64_R12, DT_AMD64_R13, DT_AMD64_R14, DT_AMD64_R15};
static const int x86_candidate_registers[] = {DT_X86_ECX, DT_X86_EBX, DT_X86_EBP, DT_X86_ESI,
                                              DT_X86_EDI};

typedef struct cs_search {
    const dt_analysis *analysis;
    const cs_layout *layout;
    uint32_t waiter_id;
    int best_score;
    an_critical_section best;
} cs_search;

static uint64_t read_pointer(const uint8_t *p, unsigned size)
{
    return size == 8 ? dt_le64(p) : dt_le32(p);
}

/* DebugInfo is -1 or NULL (no debug record), or points to an
 * RTL_CRITICAL_SECTION_DEBUG whose CriticalSection points back. Returns the
 * score it adds, or -1 when it contradicts the candidate. */
static int debug_info_score(const cs_search *s, uint64_t address, uint64_t debug_info)
{
    const cs_layout *l = s->layout;
    uint64_t all_ones = l->pointer_size == 8 ? UINT64_MAX : UINT32_MAX;
    if (debug_info == 0 || debug_info == all_ones)
        return 0;
    if (debug_info % l->pointer_size != 0)
        return -1;
    uint8_t back[8];
    if (dt_dump_read(s->analysis->dump, debug_info + l->debug_critical_section, back,
                     l->pointer_size) != l->pointer_size)
        return 0;
    return read_pointer(back, l->pointer_size) == address ? SCORE_DEBUG_LINKED : -1;
}

/* An owned section has an owner id (a multiple of 4 that fits 32 bits),
 * RecursionCount >= 1 and a LockCount that says "locked" in either
 * encoding; a free one has neither owner nor recursion. */
static bool ownership_consistent(uint64_t owner, int32_t lock_count, int32_t recursion)
{
    if (owner == 0)
        return recursion == 0;
    if (owner > UINT32_MAX || owner % 4 != 0 || recursion < 1 || recursion > MAX_RECURSION)
        return false;
    bool vista_unlocked = lock_count < -1 && (lock_count & 1);
    return lock_count != -1 && !vista_unlocked;
}

/* Scores the RTL_CRITICAL_SECTION at `address`; 0 when it does not validate. */
static int score_candidate(const cs_search *s, uint64_t address, an_critical_section *out)
{
    const cs_layout *l = s->layout;
    uint8_t bytes[0x28];
    if (address == 0 || address % l->pointer_size != 0 || address > UINT64_MAX - l->size ||
        dt_dump_read(s->analysis->dump, address, bytes, l->size) != l->size)
        return 0;
    uint64_t owner = read_pointer(bytes + l->owning_thread, l->pointer_size);
    int32_t lock_count = (int32_t)dt_le32(bytes + l->lock_count);
    int32_t recursion = (int32_t)dt_le32(bytes + l->recursion_count);
    if (owner == s->waiter_id || !ownership_consistent(owner, lock_count, recursion))
        return 0;
    int debug = debug_info_score(s, address, read_pointer(bytes, l->pointer_size));
    if (debug < 0)
        return 0;
    int score = debug;
    if (owner != 0)
        score += dt_dump_thread_by_id(s->analysis->dump, (uint32_t)owner) ? SCORE_OWNER_PRESENT
                                                                           : SCORE_OWNER_PLAUSIBLE;
    if (an_lock_count_waiters(lock_count, recursion) > 0)
        score += SCORE_HAS_WAITERS;
    *out = (an_critical_section){address, lock_count, recursion, (uint32_t)owner};
    return score >= SCORE_REQUIRED ? score : 0;
}

static void consider(cs_search *s, uint64_t address)
{
    an_critical_section cs;
    int score = score_candidate(s, address, &cs);
    if (score > s->best_score) {
        s->best_score = score;
        s->best = cs;
    }
}

static void consider_registers(cs_search *s, const dt_thread *thread)
{
    if (!thread->has_context)
        return;
    bool x64 = thread->context.cpu == DT_CPU_AMD64;
    const int *regs = x64 ? x64_candidate_registers : x86_candidate_registers;
    size_t count = x64 ? sizeof x64_candidate_registers / sizeof(int)
                       : sizeof x86_candidate_registers / sizeof(int);
    for (size_t i = 0; i < count; i++) {
        if (!(thread->context.valid & (1ull << regs[i])))
            continue;
        uint64_t value = thread->context.regs[regs[i]];
        consider(s, value);
        if (value >= s->layout->lock_semaphore)
            consider(s, value - s->layout->lock_semaphore);
    }
}

/* Stack words from frame 0 to the home area above the outermost
 * critical-section frame (where a caller spills RtlEnterCriticalSection's
 * argument). */
static void consider_stack(cs_search *s, const dt_thread_stack *stack, size_t lock_frame)
{
    const dt_frame *frames = stack->frames;
    uint64_t low = frames[0].sp;
    uint64_t high = lock_frame + 1 < stack->frame_count ? frames[lock_frame + 1].sp
                                                        : frames[lock_frame].sp;
    high += HOME_AREA_WORDS * s->layout->pointer_size;
    if (high <= low)
        return;
    size_t size = high - low < MAX_SCAN_BYTES ? (size_t)(high - low) : MAX_SCAN_BYTES;
    uint8_t bytes[MAX_SCAN_BYTES];
    size = dt_dump_read(s->analysis->dump, low, bytes, size);
    unsigned step = s->layout->pointer_size;
    for (size_t offset = 0; offset + step <= size; offset += step)
        consider(s, read_pointer(bytes + offset, step));
}

bool an_find_critical_section(const dt_analysis *a, size_t index, an_critical_section *out)
{
    const an_thread_work *work = &a->work[index];
    const dt_thread_stack *stack = work->stack;
    if (!stack->thread || stack->frame_count == 0 || work->lock_api_frame >= stack->frame_count)
        return false;
    bool x86 = stack->thread->has_context && stack->thread->context.cpu == DT_CPU_X86;
    cs_search s = {a, x86 ? &x86_layout : &x64_layout, stack->thread->id, 0, {0}};
    consider_registers(&s, stack->thread);
    consider_stack(&s, stack, work->lock_api_frame);
    if (s.best_score == 0)
        return false;
    *out = s.best;
    return true;
}

size_t an_lock_count_waiters(int32_t lock_count, int32_t recursion_count)
{
    if (lock_count >= 0) {
        /* Old encoding: every enter increments LockCount from -1, the
         * owner's recursive enters included. */
        int64_t waiters = (int64_t)lock_count - (recursion_count > 1 ? recursion_count - 1 : 0);
        return waiters > 0 ? (size_t)waiters : 0;
    }
    if (lock_count == -1)
        return 0;
    /* Vista+: bit 0 lock bit (0 = locked), bit 1 waiter-woken bit, the
     * remaining bits count waiters down from -1. */
    return (size_t)(((int64_t)-1 - lock_count) >> 2);
}
