"""An lldb command (dtframes) that prints each thread's physical frames as
'pc:module'. lldb lists DWARF inline frames before the concrete frame that
holds them and reports the concrete frame at the inline call site, so a
physical frame's address is that of the first frame of its inline group."""
import lldb


def physical_frames(thread):
    frames, group_open = [], False
    for frame in thread:
        if not group_open:
            frames.append("%x:%s" % (frame.GetPC(), frame.GetModule().GetFileSpec().GetFilename()))
        group_open = frame.IsInlined()
    return frames


def dtframes(debugger, command, result, internal_dict):
    for thread in debugger.GetSelectedTarget().GetProcess():
        print("THREAD %d %s" % (thread.GetThreadID(), " ".join(physical_frames(thread))))


def __lldb_init_module(debugger, internal_dict):
    debugger.HandleCommand("command script add -f lldb_frames.dtframes dtframes")
