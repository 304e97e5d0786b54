"""x64 walks of the Wine-made fixtures against lldb-16's independent walks.

For every fixture dump, each thread's frames from `dumptriage stacks` must
equal lldb-16's physical frames (same instruction addresses, in order), and
every frame after the context frame must be recovered from unwind data
(`cfi`). Where the fixture's expected-facts file records that lldb differs,
with the reason, the walk is checked against the expected call chain's
modules instead. A walk cut at the frame limit is compared as a prefix. Normal dumps are walked with the committed images (--images);
full dumps also without --images, from the images in dump memory.
Skips when lldb-16 is absent, unless CI is set."""
import glob
import gzip
import json
import os
import shutil
import subprocess
import tempfile

from harness import IN_CI, SOURCE_DIR, Results, run

R = Results("stacks-vs-lldb")
FIXTURES = os.path.join(SOURCE_DIR, "fixtures")
IMAGE_DIRS = [os.path.join(FIXTURES, "bin"), os.path.join(FIXTURES, "wine-dlls")]
LLDB = shutil.which("lldb-16")


def lldb_walk(dump_path):
    """{thread id: [address, ...]} from lldb-16."""
    script = os.path.join(SOURCE_DIR, "tests", "golden", "lldb_frames.py")
    proc = subprocess.run(
        [LLDB, "--batch", "-o", "settings set target.exec-search-paths " + " ".join(IMAGE_DIRS),
         "-o", f"target create --core {dump_path}", "-o", f"command script import {script}",
         "-o", "dtframes"], capture_output=True, text=True, timeout=300)
    walks = {}
    for line in proc.stdout.splitlines():
        if line.startswith("THREAD "):
            fields = line.split()
            walks[int(fields[1])] = [int(f.split(":")[0], 16) for f in fields[2:]]
    return walks


def our_walk(dump_path, with_images):
    args = ["stacks", "--format", "json", "--no-group", dump_path]
    for d in IMAGE_DIRS if with_images else []:
        args += ["--images", d]
    code, out, err = run(args)
    if not R.check(code == 0, f"{dump_path}: stacks exit {code}: {err}"):
        return {}
    return {t["id"]: t for t in json.loads(out)["threads"]}


def expected_threads(name):
    """{thread id: expected thread} from fixtures/expected/<dump>.json."""
    path = os.path.join(FIXTURES, "expected", name.replace(".dmp.gz", ".json"))
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return {t["id"]: t for t in json.load(f)["threads"]}


def first_difference(ours, expected):
    """A short description of where two address lists part, or None."""
    for i in range(max(len(ours), len(expected))):
        a = ours[i] if i < len(ours) else None
        b = expected[i] if i < len(expected) else None
        if a != b:
            return (f"frame {i}: ours {hex(a) if a else None}, lldb {hex(b) if b else None} "
                    f"({len(ours)} vs {len(expected)} frames)")
    return None


def compare_modules(what, frames, expected):
    """The walk against the expected chain's modules, frame by frame."""
    ours = [os.path.splitext(f["module"] or "?")[0].lower() for f in frames]
    R.equal(ours, [f["module"].lower() for f in expected["frames"]], f"{what} modules")


def compare(name, reference, ours):
    expected = expected_threads(name)
    for tid, lldb_addresses in sorted(reference.items()):
        thread = ours.get(tid, {"frames": [], "end_reason": None})
        frames, what = thread["frames"], f"{name} thread {tid}"
        facts = expected.get(tid, {})
        if facts.get("lldb", "agrees").startswith("differs"):
            if frames or facts.get("frames"):
                compare_modules(what, frames, facts)
            continue
        addresses = [int(f["address"], 16) for f in frames]
        if thread["end_reason"] == "frame limit reached":
            lldb_addresses = lldb_addresses[:len(addresses)]
        difference = first_difference(addresses, lldb_addresses)
        R.check(difference is None, f"{what}: {difference}")
        untrusted = [f["index"] for f in frames[1:] if f["trust"] != "cfi"]
        R.check(not untrusted, f"{what}: frames {untrusted[:5]} not from unwind data")


def main():
    dumps = sorted(glob.glob(os.path.join(FIXTURES, "dumps", "*.dmp.gz")))
    if not dumps:
        R.skip("no fixture dumps")
    elif not LLDB:
        if IN_CI:
            R.check(False, "lldb-16 is required in CI")
        else:
            R.skip("lldb-16 is not installed")
        R.finish()
    with tempfile.TemporaryDirectory() as tmp:
        for path in dumps:
            name = os.path.basename(path)
            plain = os.path.join(tmp, name[:-3])
            with gzip.open(path) as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            reference = lldb_walk(plain)
            if not R.check(reference, f"{name}: lldb produced no walk"):
                continue
            compare(name, reference, our_walk(plain, True))
            if ".full." in name:
                compare(name + " (images from dump memory)", reference, our_walk(plain, False))
    R.finish()


main()
