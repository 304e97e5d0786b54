/* Helpers shared by the scenario builders (scenario_kit.h). */
#include "scenario_kit.h"

#include <string.h>

void frame_list_append(frame_list *l, const synth_frame_spec *frames, size_t count)
{
    if (l->count + count > sizeof l->frames / sizeof l->frames[0])
        synth_fail("too many frames");
    memcpy(l->frames + l->count, frames, count * sizeof *frames);
    l->count += count;
}

void scenario_add_thread(synth_process *p, uint32_t id, const char *role, const frame_list *l,
                         uint64_t user_time)
{
    synth_thread_spec t = {.id = id, .role = role, .frames = l->frames, .frame_count = l->count,
                           .user_time = user_time};
    synth_process_add_thread(p, &t);
}
