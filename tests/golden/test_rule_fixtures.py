"""A positive and a negative fixture for every built-in rule.

tests/rules/fixtures/rule_fixtures.json lists the fixtures (the Wine dumps
of fixtures/ and the dt-synth scenarios, rule-* among them) with the exact
findings each must give: rule ids, thread ids and summary fragments, so a
rule that fires where it should not fails too. Healthy fixtures give no
warning and no error. Every rule of 'dumptriage rules list' must have a
positive fixture (where it fires) and a negative one (a near miss where it
must not); 'dumptriage rules test' must match on the positive (exit 0) and
explain the negative (exit 1, naming the condition that failed)."""
import json
import os
import subprocess
import tempfile

from harness import SOURCE_DIR, Results, run

R = Results("rule-fixtures")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", os.path.join(SOURCE_DIR, "build")),
                     "tests", "dt-synth")
FIXTURES = os.path.join(SOURCE_DIR, "fixtures")
with open(os.path.join(SOURCE_DIR, "tests", "rules", "fixtures", "rule_fixtures.json")) as f:
    DATA = json.load(f)


def dump_args(name, synth_root):
    """The dump of a fixture and the options that find its images and symbols."""
    if DATA["fixtures"][name]["source"] == "wine":
        return [os.path.join(FIXTURES, "dumps", name + ".dmp.gz"), "--images",
                os.path.join(FIXTURES, "bin"), "--images", os.path.join(FIXTURES, "wine-dlls"),
                "--symbols", os.path.join(FIXTURES, "bin"), "--offline"]
    root = os.path.join(synth_root, name)
    return [os.path.join(root, "full.dmp"), "--symbols", os.path.join(root, "symbols"),
            "--offline"]


def thread_ids(spec):
    """A list of ids, or "START+STEP*COUNT" (hex start) for long runs."""
    if isinstance(spec, list):
        return spec
    start, rest = spec.split("+")
    step, count = rest.split("*")
    return [int(start, 16) + int(step) * i for i in range(int(count))]


def check_fixture(name, synth_root):
    fixture = DATA["fixtures"][name]
    code, out, err = run(["analyze", "--format", "json"] + dump_args(name, synth_root),
                         timeout=300)
    if not R.check(code == 0 and out.strip(), f"{name}: analyze exit {code}: {err[:300]}"):
        return
    findings = {f["rule_id"]: f for f in json.loads(out)["findings"]}
    expected = fixture["findings"]
    R.equal(sorted(findings), sorted(expected), f"{name}: rules that fire")
    for rule_id, want in expected.items():
        got = findings.get(rule_id)
        if not got:
            continue
        R.equal(got["thread_ids"], thread_ids(want["threads"]), f"{name}: {rule_id} thread_ids")
        for fragment in want["summary"]:
            R.check(fragment in got["summary"],
                    f"{name}: {rule_id} summary lacks {fragment!r}: {got['summary']!r}")
    if fixture.get("healthy"):
        loud = [f"{f['severity']} {r}" for r, f in findings.items()
                if f["severity"] in ("warning", "error")]
        R.equal(loud, [], f"{name}: healthy, yet warnings or errors")


def check_coverage(rule_ids):
    """Every built-in rule has a positive and a negative fixture, consistent
    with the fixtures' expected findings; no entry names an unknown rule."""
    rules = DATA["rules"]
    R.equal(sorted(set(rules) - set(rule_ids)), [], "fixture entries for rules that do not exist")
    for rule_id in rule_ids:
        entry = rules.get(rule_id)
        if not R.check(entry and entry.get("positive") and entry.get("negative"),
                       f"{rule_id}: no positive and negative fixture"):
            continue
        for name in entry["positive"]:
            R.check(rule_id in DATA["fixtures"].get(name, {}).get("findings", {}),
                    f"{rule_id}: positive fixture {name} does not expect it")
        negative = entry["negative"][0]
        R.check(negative in DATA["fixtures"] and
                rule_id not in DATA["fixtures"][negative]["findings"],
                f"{rule_id}: negative fixture {negative} is unknown or expects it")


def check_rules_test(rule_id, synth_root):
    """'rules test' matches on the positive and names the failing condition
    on the negative."""
    entry = DATA["rules"][rule_id]
    positive = entry["positive"][0]
    code, out, _ = run(["rules", "test", rule_id] + dump_args(positive, synth_root), timeout=300)
    R.check(code == 0 and "Result: matched" in out,
            f"rules test {rule_id} on {positive}: exit {code}\n{out[-600:]}")
    negative, failing = entry["negative"]
    code, out, _ = run(["rules", "test", rule_id] + dump_args(negative, synth_root), timeout=300)
    R.check(code == 1 and "Result: not matched" in out and failing in out,
            f"rules test {rule_id} on {negative}: exit {code}, expected {failing!r}\n{out[-900:]}")


def main():
    code, out, err = run(["rules", "list"])
    rule_ids = [line.split()[0] for line in out.splitlines() if line.strip()]
    if not R.check(code == 0 and rule_ids, f"rules list: exit {code}: {err}"):
        R.finish()
    check_coverage(rule_ids)
    scenarios = sorted(n for n, f in DATA["fixtures"].items() if f["source"] == "synth")
    with tempfile.TemporaryDirectory() as synth_root:
        proc = subprocess.run([SYNTH, "--out", synth_root] + scenarios, capture_output=True,
                              text=True)
        if not R.check(proc.returncode == 0, f"dt-synth: {proc.stderr}"):
            R.finish()
        for name in sorted(DATA["fixtures"]):
            check_fixture(name, synth_root)
        for rule_id in rule_ids:
            if rule_id in DATA["rules"]:
                check_rules_test(rule_id, synth_root)
    R.finish()


main()
