"""x86 walks of the Breakpad crash dumps in the shared corpus (a 32-bit
writer on WOW64, Windows 6.1.7600), against lldb-16's independent walks.

For every dump: the exception facts match corpus/INDEX.md, and each
thread's frames equal lldb-16's physical frames (same addresses, in order;
on these dumps lldb's EBP-chain walks agree with Breakpad's). In
exec_av_on_stack.dmp frame 0 is flagged `on_stack`; in stack_exhaustion.dmp
the walk shows the recursion (one return address repeated). Skips when the
corpus is absent; skips the lldb comparison when lldb-16 is missing, unless
CI is set."""
import json
import os
import shutil
import subprocess
import sys

from harness import IN_CI, SHARED_DIR, SOURCE_DIR, Results, run, validate

R = Results("stacks-x86-corpus")
TESTDATA = os.path.join(SHARED_DIR, "corpus", "google+breakpad", "src", "processor", "testdata")
LLDB = shutil.which("lldb-16")

# Exception code and faulting address per dump (INDEX.md: 0xC0000005 for
# the access violations, 0xC00000FD for stack_exhaustion).
DUMPS = ["ascii_read_av", "ascii_read_av_block_write", "ascii_read_av_clobber_write",
         "ascii_read_av_conditional", "ascii_read_av_then_jmp", "ascii_read_av_xchg_write",
         "ascii_write_av", "ascii_write_av_arg_to_call", "exec_av_on_stack", "null_read_av",
         "null_write_av", "read_av_clobber_write", "read_av_conditional", "read_av_non_null",
         "stack_exhaustion", "write_av_non_null"]


def lldb_walk(dump_path):
    """{thread id: [address, ...]} from lldb-16."""
    script = os.path.join(SOURCE_DIR, "tests", "golden", "lldb_frames.py")
    proc = subprocess.run([LLDB, "--batch", "-o", f"target create --core {dump_path}",
                           "-o", f"command script import {script}", "-o", "dtframes"],
                          capture_output=True, text=True, timeout=300)
    walks = {}
    for line in proc.stdout.splitlines():
        if line.startswith("THREAD "):
            fields = line.split()
            walks[int(fields[1])] = [int(f.split(":")[0], 16) for f in fields[2:]]
    return walks


def our_walk(dump_path):
    code, out, err = run(["stacks", "--format", "json", "--no-group", dump_path])
    if not R.check(code == 0, f"{dump_path}: stacks exit {code}: {err}"):
        return None
    doc = json.loads(out)
    R.equal(validate(doc), [], f"{dump_path}: schema")
    return doc


def check_exception(name, path):
    code, out, err = run(["info", "--format", "json", path])
    if not R.check(code == 0, f"{name}: info exit {code}: {err}"):
        return
    exception = json.loads(out).get("exception") or {}
    want = 0xC00000FD if name == "stack_exhaustion" else 0xC0000005
    R.equal(int(str(exception.get("code")), 16), want, f"{name}: exception code")


def check_special(name, threads):
    crashed = next(t for t in threads if t["from_exception"])
    frames = crashed["frames"]
    if name == "exec_av_on_stack":
        R.check(frames[0]["on_stack"] and frames[0]["module"] is None,
                f"{name}: frame 0 is on the stack, in no module")
    if name == "stack_exhaustion":
        addresses = [f["address"] for f in frames]
        repeated = max(addresses.count(a) for a in set(addresses))
        R.check(repeated >= 200, f"{name}: the recursion shows ({repeated} repeated frames)")


def main():
    if not os.path.isdir(TESTDATA):
        print("SKIP: corpus absent")
        sys.exit(0)
    compare = LLDB is not None
    if not compare and IN_CI:
        R.check(False, "lldb-16 is missing")
    compared = frames_compared = 0
    for name in DUMPS:
        path = os.path.join(TESTDATA, name + ".dmp")
        if not os.path.isfile(path):
            R.skip(f"{name} absent")
            continue
        check_exception(name, path)
        doc = our_walk(path)
        if not doc:
            continue
        check_special(name, doc["threads"])
        if not compare:
            continue
        reference = lldb_walk(path)
        R.equal(sorted(reference), sorted(t["id"] for t in doc["threads"]), f"{name}: threads")
        for thread in doc["threads"]:
            got = [int(f["address"], 16) for f in thread["frames"]]
            R.equal(got, reference.get(thread["id"]), f"{name} thread {thread['id']}")
            compared += 1
            frames_compared += len(got)
    print(f"compared {compared} threads, {frames_compared} frames with lldb-16")
    R.finish()


main()
