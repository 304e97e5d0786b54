"""Symbols for the public corpus dumps: the BugSplat x86 crash with its
matching PDB (a flat symbol directory) names frame 0
`myConsoleCrasher!MemoryException+0x10`, with the source line the PDB's
C13 line information gives, shows frame 2 with `invoke_main` inlined into
`__scrt_common_main_seh` (from the PDB's S_INLINESITE, as WinDbg shows it),
and reports the module's symbols as a PDB. Skips cleanly when ../shared is
absent."""
import json
import os

from harness import SHARED_DIR, Results, corpus_available, run, validate

R = Results("symbols-corpus")
BUGSPLAT = os.path.join(SHARED_DIR, "corpus", "BugSplat-Git+bugsplat-dotnet-standard",
                        "BugSplatDotNetStandard.Test", "Files")


def main():
    if not corpus_available():
        R.skip("../shared/corpus is absent")
        R.finish()
    code, out, err = run(["stacks", "--format", "json", "--offline",
                          os.path.join(BUGSPLAT, "minidump.dmp"), "--symbols", BUGSPLAT])
    if R.check(code == 0, f"stacks exit {code}: {err}"):
        doc = json.loads(out)
        R.equal(validate(doc), [], "schema")
        crashing = next(t for t in doc["threads"] if t["from_exception"])
        frame = crashing["frames"][0]
        R.equal(frame["display"], "myConsoleCrasher!MemoryException+0x10", "frame 0 name")
        R.check(frame["file"] and frame["file"].endswith("myConsoleCrasher.cpp") and frame["line"],
                f"frame 0 source line: {frame['file']}:{frame['line']}")
        caller = crashing["frames"][2]
        R.equal((caller["display"], caller["line"]),
                ("myConsoleCrasher!__scrt_common_main_seh+0xfa", 288), "frame 2 and its line")
        R.equal([(f["function"], os.path.basename(f["file"].replace("\\", "/")), f["line"])
                 for f in caller.get("inlined", [])],
                [("invoke_main", "exe_common.inl", 90)], "frame 2 inlines invoke_main")
        main_module = doc["modules"][0]
        R.equal(main_module["symbols"]["kind"], "pdb", "main module symbols from the PDB")
    R.finish()


main()
