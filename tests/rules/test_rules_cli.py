#!/usr/bin/env python3
"""The 'dumptriage rules' commands: list, show, check and test, their exit
codes and help. Uses DUMPTRIAGE (the CLI), DT_SOURCE_DIR and DT_BUILD_DIR
(for dt-synth) from ctest."""
import os
import subprocess
import sys
import tempfile

CLI = os.environ["DUMPTRIAGE"]
SOURCE = os.environ["DT_SOURCE_DIR"]
SYNTH = os.path.join(os.environ["DT_BUILD_DIR"], "tests", "dt-synth")
RULES = os.path.join(SOURCE, "src", "rules", "builtin")
FAILURES = []


def run(*args):
    result = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def check(condition, message):
    if not condition:
        FAILURES.append(message)


def test_help():
    for sub in ([], ["list"], ["show"], ["check"], ["test"]):
        code, out, _ = run("rules", *sub, "--help")
        check(code == 0 and "Usage: dumptriage rules" in out, f"rules {sub} --help: {code}")
    code, _, err = run("rules", "frobnicate")
    check(code == 2 and "unknown subcommand" in err, "unknown subcommand")


def builtin_files():
    return sorted(os.path.join(RULES, f) for f in os.listdir(RULES) if f.endswith(".yaml"))


def test_check_and_list():
    for path in builtin_files():
        code, out, _ = run("rules", "check", path)
        check(code == 0 and "valid" in out, f"rules check {path}: {code} {out}")
    code, out, _ = run("rules", "list")
    ids = [line.split()[0] for line in out.splitlines()]
    check(code == 0 and len(ids) == 30, f"rules list: {code}, {len(ids)} rules")
    for path in builtin_files():
        for line in open(path):
            if line.startswith("  - id: "):
                rule_id = line.split()[-1]
                check(rule_id in ids, f"rules list lacks {rule_id}")
    bad = os.path.join(SOURCE, "tests", "rules", "malformed", "unknown-rule-key.yaml")
    code, out, _ = run("rules", "check", RULES, bad)
    check(code == 1 and f"{bad}:7:5: unknown key 'sevrity'" in out, f"check malformed: {out}")
    code, _, _ = run("rules", "check")
    check(code == 2, "check without files")


def test_show():
    code, out, _ = run("rules", "show", "loader-lock")
    check(code == 0 and "severity:    error" in out and "- id: loader-lock" in out, "show")
    code, _, err = run("rules", "show", "no-such-rule")
    check(code == 2 and "no rule" in err, "show unknown id")
    code, _, err = run("rules", "show", "loader-lock", "--rules",
                       os.path.join(RULES, "locks.yaml"))
    check(code == 3 and "duplicate rule id 'loader-lock'" in err, f"duplicate: {err}")
    code, _, _ = run("rules", "show", "loader-lock", "--no-builtin-rules", "--rules",
                     os.path.join(RULES, "locks.yaml"))
    check(code == 0, "show with --no-builtin-rules")


def test_rules_test(tmp):
    for scenario in ("seed000-w3wp-shutdown", "healthy-w3wp"):
        subprocess.run([SYNTH, "--out", tmp, scenario], check=True, capture_output=True)
    def rules_test(rules, scenario):
        d = os.path.join(tmp, scenario)
        return run("rules", "test", rules, os.path.join(d, "mini.dmp"), "--images",
                   os.path.join(d, "images"), "--symbols", os.path.join(d, "symbols"),
                   "--offline")
    code, out, _ = rules_test(os.path.join(RULES, "iis.yaml"), "seed000-w3wp-shutdown")
    check(code == 0 and "Result: matched, 1 finding" in out and "thread 716:" in out,
          f"test S1 on seed000: {code}\n{out}")
    code, out, _ = rules_test("iis-shutdown-close-request-queue", "healthy-w3wp")
    check(code == 1 and "[no ] fact thread_count le 2" in out, f"test S1 on healthy: {out}")
    code, out, _ = rules_test(RULES, "healthy-w3wp")
    check(code == 1 and out.count("Result: not matched") == 30, "all rules on healthy")
    code, _, _ = rules_test("no-such-rule-or-file", "healthy-w3wp")
    check(code == 3, "test with an unknown rule")


# Real Wine dumps (fixtures/): the rules each must give, and nothing else.
FIXTURE_FINDINGS = {
    "av_read.mini": ["access-violation"], "av_write.mini": ["access-violation"],
    "av_exec.mini": ["access-violation"], "stack_overflow.mini": ["stack-overflow"],
    "cs_deadlock.full": ["critical-section-deadlock"],
    "cs_contention.full": ["critical-section-contention"],
    "loader_lock.full": ["loader-lock"], "loader_lock.mini": ["loader-lock"],
    "event_wait.mini": [], "pipe_read.mini": [], "w3wp.mini": [],
}


def test_fixtures():
    fixtures = os.path.join(SOURCE, "fixtures")
    for name, expected in FIXTURE_FINDINGS.items():
        code, out, _ = run("rules", "test", RULES, os.path.join(fixtures, "dumps", name + ".dmp.gz"),
                           "--images", os.path.join(fixtures, "bin"), "--images",
                           os.path.join(fixtures, "wine-dlls"), "--symbols",
                           os.path.join(fixtures, "bin"), "--offline")
        lines = out.splitlines()
        found = [lines[i + 1].split()[1].rstrip(":") for i, line in enumerate(lines)
                 if line.startswith("Result: matched")]
        check(found == expected and code == (0 if expected else 1),
              f"fixture {name}: {found}, expected {expected}")


def main():
    test_help()
    test_fixtures()
    test_check_and_list()
    test_show()
    with tempfile.TemporaryDirectory() as tmp:
        test_rules_test(tmp)
    for failure in FAILURES:
        print("FAIL:", failure)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
