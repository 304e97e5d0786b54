"""Symbolized walks of the synthetic scenarios: with the scenario's Breakpad
store on the symbol path, every frame shows exactly the described name,
e.g. `w3dt!UL_APP_POOL::Cleanup+0x62` (seed 000), and modules report where
their symbols came from. Without symbols, exported functions are still
named from the images' exports and the rest show module+offset."""
import json
import os
import subprocess
import tempfile

from harness import Results, run, validate

R = Results("symbols-synth")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "dt-synth")


def stem(module):
    return os.path.splitext(module)[0]


def walk(args):
    code, out, err = run(["stacks", "--format", "json", "--no-group", "--offline"] + args)
    if not R.check(code == 0, f"stacks {args}: exit {code}: {err}"):
        return None
    doc = json.loads(out)
    R.equal(validate(doc), [], f"{args[0]} schema")
    return doc


def check_names(scenario, doc, expected, with_symbols):
    threads = {t["id"]: t["frames"] for t in doc["threads"]}
    for thread in expected["threads"]:
        for got, want in zip(threads.get(thread["id"], []), thread["frames"]):
            if not want["module"]:
                continue
            name = want["function"] if with_symbols else want.get("export")
            wanted = (f"{stem(want['module'])}!{name}+{hex(want['offset'])}" if name
                      else None)
            if wanted:
                R.equal(got["display"], wanted, f"{scenario} thread {thread['id']}")
    kinds = {m["name"]: (m["symbols"] or {}).get("kind") for m in doc["modules"]}
    if with_symbols:
        R.check(all(k in ("sym", None) for k in kinds.values()),
                f"{scenario}: modules symbolized from .sym: {kinds}")


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([SYNTH, "--out", out], check=True, capture_output=True)
        for scenario in sorted(os.listdir(out)):
            root = os.path.join(out, scenario)
            with open(os.path.join(root, "expected.json")) as f:
                expected = json.load(f)
            if expected["cpu"] != "amd64" or not os.path.isdir(os.path.join(root, "symbols")):
                continue
            dump = os.path.join(root, "mini.dmp")
            images = ["--images", os.path.join(root, "images")]
            doc = walk([dump, "--symbols", os.path.join(root, "symbols")] + images)
            if doc:
                check_names(scenario, doc, expected, True)
            doc = walk([dump] + images)
            if doc:
                check_names(scenario, doc, expected, False)
    R.finish()


main()
