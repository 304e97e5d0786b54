/* x86 scenarios (scenarios_x86.c), registered in scenarios.c. */
#ifndef SYNTH_SCENARIOS_X86_H
#define SYNTH_SCENARIOS_X86_H

#include "synth_process.h"

/* seed002-clr-monitor-x86: seed 002 as it was, a 32-bit w3wp.exe on
 * Windows Server 2003 dumped by a 32-bit writer. */
synth_process *synth_build_seed002_x86(void);
/* wow64-x86-process: a 32-bit process on Windows 7 x64 dumped by a 64-bit
 * writer; 32-bit frames in each TEB's WOW64 context, 64-bit frames in the
 * thread contexts. */
synth_process *synth_build_wow64(void);

#endif
