"""Golden tests of `dumptriage info` on the project's own Wine-made fixtures
(fixtures/dumps), against the expected-facts files in fixtures/expected that
the generator wrote from the programs' own reports: process name, dump kind,
thread ids, exception code and faulting thread."""
import glob
import json
import os

from harness import SOURCE_DIR, Results, report, validate

R = Results("fixtures")


def check(expected_path):
    with open(expected_path) as f:
        expected = json.load(f)
    name = os.path.basename(expected_path)
    dump = os.path.join(SOURCE_DIR, "fixtures", expected["dump"])
    code, doc, err = report(["info", dump])
    if not R.check(code == 0 and doc, f"{name}: exit {code}: {err}"):
        return
    R.equal(validate(doc), [], f"{name} schema")
    R.equal(doc["process"]["name"], expected["process_name"], f"{name} process name")
    R.equal(doc["dump"]["kind"], expected["kind"], f"{name} kind")
    ids = {t["id"] for t in doc["threads"]}
    for thread in expected["threads"]:
        R.check(thread["id"] in ids, f"{name}: thread {thread['id']} ({thread['role']}) present")
    errors = [d for d in doc["diagnostics"] if d["level"] == "error"]
    R.equal(errors, [], f"{name} reader errors")
    want = expected.get("exception")
    got = doc["exception"]
    if want is None:
        R.equal(got, None, f"{name} exception")
    elif R.check(got is not None, f"{name} has an exception"):
        R.equal(int(got["code"], 16), int(want["code"], 16), f"{name} exception code")
        R.equal(got["thread_id"], want["thread_id"], f"{name} faulting thread")


def main():
    files = sorted(glob.glob(os.path.join(SOURCE_DIR, "fixtures", "expected", "*.json")))
    if not files:
        R.skip("no expected-facts files in fixtures/expected")
    for path in files:
        check(path)
    R.finish()


main()
