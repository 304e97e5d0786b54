"""x64 walks of the synthetic scenarios (tests/synth, written by dt-synth):
seed 000, seed 002, the healthy w3wp and the unwind edge cases. Every
thread's frames must equal the described frames exactly, by address, with
every caller of a frame inside a module recovered from unwind data (`cfi`),
so the decoy return addresses planted on the stacks never become frames. Both variants: the full
dump with images read from dump memory, and the mini dump with --images."""
import json
import os
import subprocess
import tempfile

from harness import Results, run, validate

R = Results("stacks-synth")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "dt-synth")


def walk(args):
    code, out, err = run(["stacks", "--format", "json", "--no-group"] + args)
    if not R.check(code == 0, f"stacks {args}: exit {code}: {err}"):
        return {}
    doc = json.loads(out)
    R.equal(validate(doc), [], f"stacks {args[0]} schema")
    return {t["id"]: t["frames"] for t in doc["threads"]}


def check_variant(scenario, variant, threads, expected):
    for thread in expected["threads"]:
        frames = threads.get(thread["id"], [])
        want = [f["address"] for f in thread["frames"]]
        got = [f["address"] for f in frames]
        what = f"{scenario}/{variant} thread {thread['id']} ({thread.get('role', '')})"
        R.equal(got, want, what)
        # A caller of a frame inside a module comes from unwind data; callers
        # of JIT code (private executable memory) use the honest fallbacks.
        from_modules = [f for prev, f in zip(frames, frames[1:]) if prev["module"]]
        R.check(all(f["trust"] == "cfi" for f in from_modules), f"{what}: caller frames are cfi")
        exported = [(f["display"].split("+")[0], w) for f, w in zip(frames, thread["frames"])
                    if w.get("export")]
        for display, w in exported:
            stem = os.path.splitext(w["module"])[0]
            R.equal(display, f"{stem}!{w['export']}", f"{what}: export name")


def main():
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([SYNTH, "--out", out], capture_output=True, text=True)
        if not R.check(proc.returncode == 0, f"dt-synth failed: {proc.stderr}"):
            R.finish()
        for scenario in sorted(os.listdir(out)):
            root = os.path.join(out, scenario)
            with open(os.path.join(root, "expected.json")) as f:
                expected = json.load(f)
            if expected["cpu"] != "amd64":
                continue
            full = walk([os.path.join(root, "full.dmp")])
            check_variant(scenario, "full", full, expected)
            mini = walk([os.path.join(root, "mini.dmp"), "--images", os.path.join(root, "images")])
            check_variant(scenario, "mini", mini, expected)
    R.finish()


main()
