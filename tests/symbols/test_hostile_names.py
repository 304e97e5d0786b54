"""Hostile module and PDB names from a dump never reach outside the symbol
and image roots: a dump whose modules are named `..\\..\\x.dll`,
`C:\\Windows\\..\\y.pdb`, `/etc/passwd`, `..`, `C:`, names with control
characters and so on is walked with --images, --symbols and a srv* cache;
bait files placed outside the roots are never opened (strace, when
installed), nothing is created outside the cache, refusals are reported,
and the symbol server is never asked for a refused name."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import CLI, IN_CI, Results, Server, run

R = Results("hostile-names")
BUILDER = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "hostile_dump")
HOSTILE = ["..\\..\\x.dll", "C:\\Windows\\..\\y.pdb", "/etc/passwd", "..", "C:", "a:b.pdb",
           "ctl\x01.pdb", "..\\bait.dll", "bait.pdb"]


def snapshot(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        roots = {name: os.path.join(tmp, name) for name in ("images", "symbols", "cache", "served")}
        for path in roots.values():
            os.makedirs(path)
        for bait in ("bait.dll", "bait.pdb", "x.dll", "y.pdb", "passwd"):
            with open(os.path.join(tmp, bait), "wb") as f:
                f.write(b"MZ bait")
        dump = os.path.join(tmp, "hostile.dmp")
        subprocess.run([BUILDER, dump] + HOSTILE, check=True)
        before = snapshot(tmp)
        server = Server(roots["served"])
        args = ["stacks", "--format", "json", dump, "--images", roots["images"],
                "--symbols", f"{roots['symbols']};srv*{roots['cache']}*{server.url}"]
        trace = os.path.join(tmp, "trace.txt")
        strace = shutil.which("strace")
        try:
            if strace:
                # LeakSanitizer cannot run under ptrace; leaks are checked elsewhere.
                env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
                proc = subprocess.run([strace, "-f", "-e", "trace=open,openat,creat,mkdir,mkdirat",
                                       "-o", trace, CLI] + args, capture_output=True, text=True,
                                      env=env)
                code, out = proc.returncode, proc.stdout
            else:
                code, out, _ = run(args)
        finally:
            server.stop()
        R.equal(code, 0, "walk exit code")
        messages = " ".join(d["message"] for d in json.loads(out)["diagnostics"])
        R.check("refused" in messages, "refusals are reported")
        created = [p for p in snapshot(tmp) if p not in before and not p.startswith("cache/")
                   and p != "trace.txt"]
        R.equal(created, [], "nothing created outside the cache")
        R.check(all(".." not in r and ":" not in r for r in server.requests),
                f"server never asked for a refused name: {server.requests}")
        if strace:
            with open(trace) as f:
                opened = f.read()
            for bait in ("bait.dll", "bait.pdb", "x.dll", "y.pdb", "passwd"):
                R.check(f'"{os.path.join(tmp, bait)}"' not in opened, f"bait {bait} never opened")
        elif IN_CI:
            R.check(False, "strace is required in CI")
        else:
            R.skip("strace is not installed: open() calls not traced")
    R.finish()


main()
