"""x86 walks of the synthetic x86 scenarios (tests/synth, written by
dt-synth): seed002-clr-monitor-x86 (a 32-bit writer) and wow64-x86-process
(a 64-bit writer; the 32-bit stacks come from the TEBs' WOW64 contexts).

Every thread's frames must equal the described frames exactly, by address,
in both variants (the full dump with images from dump memory, the mini dump
with --images), with the Breakpad symbols given. Each caller frame is
recovered the way its callee demands: `cfi` from the callee's STACK WIN
record (FPO functions, leaf functions, syscall stubs), `frame_pointer` from
the EBP chain (EBP-framed functions and JIT code); never `scan`, so the
decoy return addresses planted on the stacks never become frames. Frames in
modules are named from the .sym files."""
import glob
import json
import os
import subprocess
import tempfile

from harness import Results, run, validate

R = Results("stacks-x86-synth")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "dt-synth")
SCENARIOS = ["seed002-clr-monitor-x86", "wow64-x86-process"]


def stack_win_ranges(root):
    """{debug file stem: [(rva, size)]} from the STACK WIN lines."""
    ranges = {}
    for path in glob.glob(os.path.join(root, "symbols", "*", "*", "*.sym")):
        with open(path) as f:
            lines = f.read().splitlines()
        name = lines[0].split()[4]
        ranges[name.lower()] = [(int(l.split()[3], 16), int(l.split()[4], 16))
                                for l in lines if l.startswith("STACK WIN ")]
    return ranges


def has_record(expected, ranges, frame, exact):
    module = next((m for m in expected["modules"] if m["name"] == frame["module"]), None)
    if not module:
        return False
    address = int(frame["address"], 16) - (0 if exact else 1)
    rva = address - int(module["base"], 16)
    return any(start <= rva < start + size
               for start, size in ranges.get(module.get("debug_file", "").lower(), []))


def walk(args):
    code, out, err = run(["stacks", "--format", "json", "--no-group"] + args)
    if not R.check(code == 0, f"stacks {args}: exit {code}: {err}"):
        return {}
    doc = json.loads(out)
    R.equal(validate(doc), [], f"stacks {args[0]} schema")
    return {t["id"]: t for t in doc["threads"]}


def check_thread(what, got, want, expected, ranges):
    frames = got.get("frames", [])
    R.equal([f["address"] for f in frames], [w["address"] for w in want], what)
    R.equal(got.get("wow64"), expected["wow64"], f"{what}: wow64")
    for k in range(1, min(len(frames), len(want))):
        callee = want[k - 1]
        trust = "cfi" if has_record(expected, ranges, callee, k == 1) else "frame_pointer"
        R.equal(frames[k]["trust"], trust, f"{what} frame {k} trust")
    for f, w in zip(frames, want):
        if w["module"]:
            stem = os.path.splitext(w["module"])[0]
            R.equal(f["display"].split("+")[0], f"{stem}!{w['function']}", f"{what}: name")
    return len(frames)


def check_scenario(root, scenario):
    with open(os.path.join(root, "expected.json")) as f:
        expected = json.load(f)
    ranges = stack_win_ranges(root)
    symbols = ["--symbols", os.path.join(root, "symbols")]
    variants = {"full": [os.path.join(root, "full.dmp")] + symbols,
                "mini": [os.path.join(root, "mini.dmp"), "--images",
                         os.path.join(root, "images")] + symbols}
    compared = 0
    for variant, args in variants.items():
        threads = walk(args)
        for thread in expected["threads"]:
            what = f"{scenario}/{variant} thread {thread['id']} ({thread['role']})"
            compared += check_thread(what, threads.get(thread["id"], {}), thread["frames"],
                                     expected, ranges)
    return compared


def check_native_side(root):
    """--wow64-native walks the threads' 64-bit side (the thread contexts)."""
    with open(os.path.join(root, "expected.json")) as f:
        expected = json.load(f)
    threads = walk([os.path.join(root, "full.dmp"), "--wow64-native",
                    "--symbols", os.path.join(root, "symbols")])
    for thread in expected["threads"]:
        got = threads.get(thread["id"], {})
        what = f"--wow64-native thread {thread['id']}"
        R.equal([f["address"] for f in got.get("frames", [])],
                [w["address"] for w in thread["native_frames"]], what)
        R.check(got.get("wow64") is False, f"{what}: not the 32-bit side")


def main():
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([SYNTH, "--out", out] + SCENARIOS, capture_output=True, text=True)
        if not R.check(proc.returncode == 0, f"dt-synth failed: {proc.stderr}"):
            R.finish()
        check_native_side(os.path.join(out, "wow64-x86-process"))
        frames = sum(check_scenario(os.path.join(out, s), s) for s in SCENARIOS)
        print(f"compared {frames} frames")
    R.finish()


main()
