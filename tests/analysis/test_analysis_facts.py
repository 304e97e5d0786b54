"""Analysis facts on the Wine fixtures and the synthetic seed scenarios.

Usage: test_analysis_facts.py ANALYSIS_FACTS DT_SYNTH

For every fixtures/expected/*.json the dump is analyzed with its images and
symbols (fixtures/bin, fixtures/wine-dlls); the facts must agree with the
expected file: critical sections (address, owner, waiters, LockCount) in the
full dumps, thread states by role, exited handles, the runaway thread's CPU
share, the stack overflow's cycle. The seed scenarios written by dt-synth
are checked against docs/analysis.md's stated results.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
from harness import SOURCE_DIR, Results  # noqa: E402

FIXTURES = os.path.join(SOURCE_DIR, "fixtures")

# The state every fixture role must have.
ROLE_STATES = {
    "main": "waiting", "busy": "running", "faulting": "running", "throwing": "running",
    "lock-owner": "waiting", "lock-waiter": "waiting", "deadlock-ledger": "waiting",
    "deadlock-auditor": "waiting", "loader-lock-owner": "waiting",
    "loader-lock-waiter-getprocaddress": "waiting", "loader-lock-waiter-loadlibrary": "waiting",
    "event-waiter": "waiting", "pipe-reader": "waiting", "idle-worker": "waiting",
    "timer": "waiting", "crash-reporter": "waiting", "runaway": "running",
    "overflowing": "running", "watchdog": "running", "debugger-break-in": "running",
    "pool-idle": "idle", "iocp-idle": "idle",
}


def analyze(tool, dump, images, symbols):
    args = [tool, dump]
    for path in images:
        args += ["-i", path]
    for path in symbols:
        args += ["-s", path]
    proc = subprocess.run(args, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"{dump}: {proc.stderr.decode('utf-8', 'replace')}")
    return json.loads(proc.stdout)


def check_locks(r, name, facts, expected):
    locks = [lock for lock in facts["locks"] if lock["kind"] == "critical_section"]
    if expected["kind"] != "full":
        r.equal(locks, [], f"{name}: no critical section is readable in a mini dump")
        return
    want = sorted(({"address": int(e["address"], 16), "owner": e["owner_thread_id"],
                    "waiters": sorted(e["waiter_thread_ids"]), "lock_count": e["lock_count"]}
                   for e in expected["locks"]), key=lambda e: e["address"])
    got = sorted(({"address": int(g["address"], 16), "owner": g["owner_thread_id"],
                   "waiters": g["waiter_thread_ids"], "lock_count": g["lock_count"]}
                  for g in locks), key=lambda g: g["address"])
    r.equal(got, want, f"{name}: critical sections")


def check_threads(r, name, facts, expected):
    states = {t["id"]: t for t in facts["threads"]}
    for t in expected["threads"]:
        want = ROLE_STATES.get(t["role"])
        if r.check(want is not None, f"{name}: role {t['role']} has an expected state"):
            r.equal(states[t["id"]]["state"], want, f"{name}: thread {t['id']} ({t['role']})")


def check_handles(r, name, facts, expected):
    handles = expected["handles"] or {}
    process = facts["process"]
    for kind in ("Thread", "Process"):
        entry = handles.get(kind, {"total": 0, "exited": 0})
        key = kind.lower() + "_handles"
        r.equal(process[key], entry["total"], f"{name}: {kind} handles")
        r.equal(process[key + "_exited"], entry.get("exited", 0), f"{name}: exited {kind} handles")


def role_ids(expected, role):
    return [t["id"] for t in expected["threads"] if t["role"] == role]


def check_scenario(r, name, facts, expected):
    threads = {t["id"]: t for t in facts["threads"]}
    scenario = expected["scenario"]
    if name == "cs_deadlock.full":
        cycles = [sorted(d["thread_ids"]) for d in facts["deadlocks"]]
        r.equal(cycles, [sorted(role_ids(expected, "deadlock-ledger") +
                                role_ids(expected, "deadlock-auditor"))], f"{name}: deadlock")
    else:
        r.equal(facts["deadlocks"], [], f"{name}: no deadlock")
    if name == "cs_contention.full":
        owner = threads[role_ids(expected, "lock-owner")[0]]
        r.equal((owner["wait"], len(facts["locks"][0]["waiter_thread_ids"])), ("delay", 30),
                f"{name}: 30 waiters, the owner sleeping")
    if scenario == "runaway-thread":
        top = max(facts["threads"], key=lambda t: t["cpu_share"])
        r.equal(top["id"], role_ids(expected, "runaway")[0], f"{name}: top CPU share")
    if scenario == "stack-overflow":
        rec = threads[role_ids(expected, "overflowing")[0]]["recursion"]
        r.check(rec["cycle"] == 3 and rec["depth"] >= 300, f"{name}: recursion {rec}")
    if scenario == "healthy-w3wp":
        r.equal([lock for lock in facts["locks"] if lock["waiter_thread_ids"]], [],
                f"{name}: no lock with waiters")


def check_fixtures(r, tool):
    expected_dir = os.path.join(FIXTURES, "expected")
    paths = [os.path.join(FIXTURES, "bin"), os.path.join(FIXTURES, "wine-dlls")]
    for file_name in sorted(os.listdir(expected_dir)):
        with open(os.path.join(expected_dir, file_name)) as f:
            expected = json.load(f)
        name = file_name[:-len(".json")]
        facts = analyze(tool, os.path.join(FIXTURES, expected["dump"]), paths, paths)
        check_locks(r, name, facts, expected)
        check_threads(r, name, facts, expected)
        check_handles(r, name, facts, expected)
        check_scenario(r, name, facts, expected)


def check_seed000(r, what, facts, roles):
    r.equal([(t["state"], t["wait"], t["wait_function"]) for t in facts["threads"]],
            [("waiting", "file_io", "NtClose")], f"{what}: the shutdown thread")


def check_seed002(r, what, facts, roles):
    monitors = [lock for lock in facts["locks"] if lock["kind"] == "clr_monitor"]
    waiters = sorted(i for i, role in roles.items() if role == "monitor-waiter")
    r.equal([(m["owner_thread_id"], m["waiter_thread_ids"]) for m in monitors], [(None, waiters)],
            f"{what}: one monitor, 72 waiters, owner not recoverable")
    owner = next(t for t in facts["threads"] if roles[t["id"]] == "lock-owner")
    r.equal((owner["state"], owner["wait"], owner["wait_function"]),
            ("waiting", "file_io", "NtQueryDirectoryFile"), f"{what}: the owner's wait")
    r.equal((facts["process"]["clr_module"], facts["process"]["clr_version"]),
            ("clr.dll", "4.0.30319.1"), f"{what}: CLR")


def check_healthy(r, what, facts, roles):
    busy = [t["id"] for t in facts["threads"] if roles[t["id"]] != "main" and t["state"] != "idle"]
    r.equal(busy, [], f"{what}: every thread but main is idle")
    r.equal(facts["locks"], [], f"{what}: no locks")


SCENARIOS = {"seed000-w3wp-shutdown": check_seed000, "seed002-clr-monitor-x64": check_seed002,
             "healthy-w3wp": check_healthy}


def check_synthetic(r, tool, synth):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([synth, "--out", out] + list(SCENARIOS), check=True, capture_output=True)
        for scenario, check in SCENARIOS.items():
            root = os.path.join(out, scenario)
            with open(os.path.join(root, "expected.json")) as f:
                roles = {t["id"]: t["role"] for t in json.load(f)["threads"]}
            for variant in ("full", "mini"):
                facts = analyze(tool, os.path.join(root, variant + ".dmp"),
                                [os.path.join(root, "images")], [os.path.join(root, "symbols")])
                check(r, f"{scenario} {variant}", facts, roles)


def main():
    r = Results("analysis_facts")
    check_fixtures(r, sys.argv[1])
    check_synthetic(r, sys.argv[1], sys.argv[2])
    r.finish()


if __name__ == "__main__":
    main()
