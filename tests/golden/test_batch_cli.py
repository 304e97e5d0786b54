"""Batch triage from the command line: the --fail-on levels and the exit
status precedence (usage 2, input errors 3, findings 1, else 0), progress
on stderr (only on a terminal unless --progress), NO_COLOR and --color,
--output (atomic replacement, a planted symlink replaced rather than
followed, the mode a new file gets) and that no input file is ever
written."""
import json
import os
import pty
import re
import select
import stat
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "batch"))

from harness import CLI, IN_CI, Results  # noqa: E402
import batch_inputs as B  # noqa: E402

R = Results("batch-cli")
SEED = "dumps/iis/seed000-w3wp-shutdown.dmp"           # an error finding (built-in rule)
HEALTHY = "dumps/iis/healthy-w3wp.dmp"                  # no warning or error finding
BUSY = "dumps/hang/w3wp.mini.dmp.gz"                    # a warning finding (test rule)
LOCKS = "dumps/hang/cs_deadlock.full.dmp.gz"            # an info finding (test rule)
BROKEN = "dumps/broken/truncated.dmp"                   # unreadable
LEVELS = ("none", "info", "warning", "error")
TIME = "/usr/bin/time"


def exit_code(inputs, paths, *options, builtin=True):
    rules = [] if builtin else ["--no-builtin-rules"]
    code, _, err = B.analyze(list(paths) + inputs.options + rules + list(options), cwd=inputs.root)
    return code, err


def check_fail_on(inputs):
    """Each level against dumps whose most severe finding is below, at and
    above it. Test rules only (--no-builtin-rules) give exact levels."""
    top = {LOCKS: "info", BUSY: "warning"}
    for path, severity in top.items():
        for level in LEVELS:
            fails = level != "none" and LEVELS.index(level) <= LEVELS.index(severity)
            code, err = exit_code(inputs, [path], "--fail-on", level, builtin=False)
            R.equal(code, 1 if fails else 0, f"fail-on {level}: a {severity} finding ({err[-200:]})")
    for level in LEVELS:
        code, _ = exit_code(inputs, [SEED], "--fail-on", level)
        R.equal(code, 0 if level == "none" else 1, f"fail-on {level}: an error finding")
    code, out, _ = B.analyze([HEALTHY, "--format", "json"] + inputs.options, cwd=inputs.root)
    worst = max((B.SEVERITIES.index(f["severity"]) for f in json.loads(out)["findings"]), default=-1)
    R.check(worst < B.SEVERITIES.index("warning"), "healthy-w3wp: no warning or error finding")
    R.equal(exit_code(inputs, [HEALTHY], "--fail-on", "warning")[0], 0, "fail-on warning: healthy")
    R.equal(exit_code(inputs, [SEED], "--fail-on", "error", builtin=False)[0], 0,
            "fail-on error: without the built-in rules seed000 has no finding")


def check_precedence(inputs):
    # Input errors (3) beat findings (1).
    R.equal(exit_code(inputs, [SEED, BROKEN], "--fail-on", "error")[0], 3,
            "an unreadable dump and an error finding: 3")
    R.equal(exit_code(inputs, [BROKEN])[0], 3, "an unreadable dump: 3")
    R.equal(exit_code(inputs, ["dumps/broken/not-a-dump.dmp"])[0], 3, "a non-dump named .dmp: 3")
    R.equal(exit_code(inputs, [SEED, "dumps/no-such-file.dmp"], "--fail-on", "error")[0], 3,
            "a missing input: 3")
    # Usage errors (2) beat input errors and findings.
    usage = {
        "bad --fail-on": ["--fail-on", "critical"],
        "bad --format": ["--format", "xml"],
        "bad --color": ["--color", "sometimes"],
        "bad --jobs": ["--jobs", "many"],
        "bad --max-frames": ["--max-frames", "-1"],
        "unknown option": ["--frobnicate"],
    }
    for what, options in usage.items():
        code, err = exit_code(inputs, [SEED, BROKEN], "--fail-on", "error", *options)
        R.check(code == 2 and err.strip(), f"{what} with findings and an unreadable dump: 2, "
                                           f"with a message (got {code}: {err.strip()[-120:]})")
    code, _, _ = B.analyze(["--fail-on", "error"], cwd=inputs.root)
    R.equal(code, 2, "no PATH: 2")
    bad_rules = os.path.join(inputs.root, "bad-rules.yaml")
    with open(bad_rules, "w") as f:
        f.write("version: 1\nrules:\n  - id: x\n    severity: dire\n")
    code, err = exit_code(inputs, [SEED, BROKEN], "--rules", bad_rules)
    R.check(code == 2 and "bad-rules.yaml" in err, f"an invalid rule file: 2 ({code})")
    code, err = exit_code(inputs, ["dumps/no-such-file.dmp"], "--rules", bad_rules)
    R.check(code == 2 and "bad-rules.yaml" in err and "no-such-file" not in err,
            f"an invalid rule file and a missing input: 2, before the inputs are looked at ({code})")
    R.equal(exit_code(inputs, [HEALTHY])[0], 0, "nothing wrong: 0")
    empty = os.path.join(inputs.root, "empty")
    os.makedirs(empty, exist_ok=True)
    code, out, _ = B.analyze([empty, "--format", "json"], cwd=inputs.root)
    R.check(code == 0 and json.loads(out) == [], f"an empty folder: 0 and [] ({code})")


# ---- Progress and colour -----------------------------------------------------------

def run_with_pty_stderr(args, cwd, env):
    """Runs the CLI with stderr on a pseudo-terminal; returns (code, stdout, stderr text)."""
    master, slave = pty.openpty()
    chunks = []

    def drain():
        while True:
            try:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    data = os.read(master, 65536)
                    if not data:
                        return
                    chunks.append(data)
                elif proc.poll() is not None:
                    return
            except OSError:
                return

    proc = subprocess.Popen([CLI, "analyze"] + args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    reader = threading.Thread(target=drain)
    reader.start()
    out, _ = proc.communicate(timeout=600)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


def check_progress_and_colour(inputs):
    total = len(inputs.paths)
    args = [inputs.folder, "--jobs", "2", "--format", "json"] + inputs.options
    code, out, err = B.analyze(args, cwd=inputs.root, env=B.clean_env())
    R.check("dumps" not in err and "\r" not in err and not err.strip(),
            f"no progress when stderr is not a terminal: {err[-200:]!r}")
    code, out, err = B.analyze(args + ["--progress"], cwd=inputs.root, env=B.clean_env())
    R.check(f"{total}/{total} dumps" in err and err.endswith("\n"),
            f"--progress: done/total on stderr: {err[-200:]!r}")
    R.check(json.loads(out) and len(json.loads(out)) == total, "--progress: stdout is still the report")
    code, out, err = run_with_pty_stderr(args, inputs.root, B.clean_env())
    R.check(f"{total}/{total} dumps" in err, f"progress by default when stderr is a terminal: {err[-200:]!r}")
    code, out, err = run_with_pty_stderr(args, inputs.root, B.clean_env(CI="1"))
    R.check("dumps," not in err, f"no progress on a terminal when CI is set: {err[-200:]!r}")
    text = [inputs.folder, "--jobs", "2"] + inputs.options
    base = B.analyze(text, cwd=inputs.root, env=B.clean_env())
    R.check(b"\x1b[" not in base[1] and "\x1b[" not in base[2], "text: no colour codes on a pipe")
    for what, env, extra in (("NO_COLOR=1", B.clean_env(NO_COLOR="1"), []),
                             ("--color never", B.clean_env(), ["--color", "never"]),
                             ("--color auto", B.clean_env(), ["--color", "auto"]),
                             ("NO_COLOR and --color auto", B.clean_env(NO_COLOR="1"), ["--color", "auto"])):
        code, out, err = B.analyze(text + extra, cwd=inputs.root, env=env)
        R.check(code == base[0] and out == base[1] and b"\x1b[" not in out,
                f"{what}: accepted, same report, no colour codes")
    code, out, err = B.analyze(text + ["--color", "always"], cwd=inputs.root, env=B.clean_env())
    plain = re.sub(rb"\x1b\[[0-9;]*m", b"", out)
    R.check(code == base[0] and b"\x1b[1;31m" in out and plain == base[1],
            "--color always: verdicts and findings coloured, the same report underneath")
    code, out, err = B.analyze(args + ["--color", "always"], cwd=inputs.root, env=B.clean_env())
    R.check(b"\x1b[" not in out, "--color always: machine-readable formats stay plain")


# ---- --output ------------------------------------------------------------------------

def check_output(inputs):
    work = os.path.join(inputs.root, "out")
    os.makedirs(work)
    args = [SEED, "--format", "json"] + inputs.options
    _, expected, _ = B.analyze(args, cwd=inputs.root)
    target = os.path.join(work, "report.json")
    with open(target, "w") as f:
        f.write("old report\n")
    old_inode = os.stat(target).st_ino
    code, out, err = B.analyze(args + ["--output", target], cwd=inputs.root)
    with open(target, "rb") as f:
        written = f.read()
    R.check(code == 0 and out == b"" and written == expected,
            f"--output: the report goes to the file, not stdout ({code}, {err[-200:]})")
    R.check(os.stat(target).st_ino != old_inode, "--output: the target is replaced (a new file renamed in)")
    mask = os.umask(0)
    os.umask(mask)
    R.equal(oct(stat.S_IMODE(os.stat(target).st_mode)), oct(0o666 & ~mask),
            "--output: the mode of a new file (0666 less the umask)")
    # A symlink planted at the target is replaced, not followed.
    victim = os.path.join(work, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    link = os.path.join(work, "linked.json")
    os.symlink(victim, link)
    code, _, err = B.analyze(args + ["--output", link], cwd=inputs.root)
    with open(victim) as f:
        R.equal(f.read(), "precious\n", "--output: a symlink's destination is untouched")
    R.check(code == 0 and not os.path.islink(link) and os.path.isfile(link),
            "--output: the symlink itself is replaced by the report")
    with open(link, "rb") as f:
        R.equal(f.read(), expected, "--output: the report is in place of the symlink")
    dangling = os.path.join(work, "dangling.json")
    os.symlink(os.path.join(work, "nowhere", "x.json"), dangling)
    code, _, _ = B.analyze(args + ["--output", dangling], cwd=inputs.root)
    R.check(code == 0 and os.path.isfile(dangling) and not os.path.islink(dangling)
            and not os.path.exists(os.path.join(work, "nowhere")),
            "--output: a dangling symlink is replaced, its destination not created")
    # Every format through --output equals stdout; no temporary file is left.
    for fmt in ("text", "json", "ndjson", "junit", "sarif", "html"):
        many = [inputs.folder, "--format", fmt, "--jobs", "2"] + inputs.options
        first, stdout, _ = B.analyze(many, cwd=inputs.root)
        path = os.path.join(work, f"all.{fmt}")
        code, _, err = B.analyze(many + ["--output", path], cwd=inputs.root)
        with open(path, "rb") as f:
            written = f.read()
        R.check(first == 3 and code == 3 and written == stdout,
                f"--output {fmt}: the same bytes as stdout (exit {first} and {code}, "
                f"{len(stdout)} and {len(written)} bytes, {err[-300:]!r})")
    leftovers = [n for n in os.listdir(work) if ".tmp-" in n]
    R.equal(leftovers, [], "--output: no temporary files left")
    # A target that cannot be written fails without touching anything else.
    code, _, err = B.analyze(args + ["--output", os.path.join(work, "missing", "r.json")],
                             cwd=inputs.root)
    R.check(code == 3 and "cannot write" in err, f"--output into a missing folder: 3 ({code})")
    os.makedirs(os.path.join(work, "a-folder"))
    code, _, err = B.analyze(args + ["--output", os.path.join(work, "a-folder")], cwd=inputs.root)
    R.check(code == 3 and os.path.isdir(os.path.join(work, "a-folder")),
            f"--output onto a folder: 3, the folder kept ({code})")
    R.equal([n for n in os.listdir(work) if ".tmp-" in n], [], "--output: no temporary files after failures")


def peak_rss_kib(args, cwd):
    """Runs `dumptriage analyze ARGS` (output discarded) under GNU time, whose
    own small process is the one that forks: a child forked from Python would
    report Python's resident size as its peak. Returns (exit code, KiB)."""
    with tempfile.NamedTemporaryFile("r") as measured:
        code = subprocess.run([TIME, "-f", "%M", "-o", measured.name, CLI, "analyze"] + args,
                              cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode
        return code, int(measured.read().split()[-1])


def check_park_file(inputs):
    """JUnit and HTML park their entries in a temporary file under $TMPDIR;
    without one the run says so and exits 3. Streamed formats need none."""
    folder = [SEED, HEALTHY]
    tmp = os.path.join(inputs.root, "park-tmp")
    os.makedirs(tmp)
    code, out, _ = B.analyze(folder + inputs.options + ["--format", "junit"], cwd=inputs.root,
                             env=B.clean_env(TMPDIR=tmp))
    R.equal((code, os.listdir(tmp)), (0, []), "junit: parked in $TMPDIR, nothing left there")
    R.check(b"<testsuites" in out, "junit: the report is written")
    missing = os.path.join(inputs.root, "no-such-dir")
    code, _, err = B.analyze(folder + inputs.options + ["--format", "html"], cwd=inputs.root,
                             env=B.clean_env(TMPDIR=missing))
    R.equal(code, 3, "html without a temporary directory: exit 3")
    R.check("temporary file" in err, f"html without a temporary directory: says why ({err!r})")
    code, _, _ = B.analyze(folder + inputs.options + ["--format", "json"], cwd=inputs.root,
                           env=B.clean_env(TMPDIR=missing))
    R.equal(code, 0, "json streams without a temporary file")


def check_memory_is_flat(inputs):
    """A batch's memory must not grow with its number of dumps: entries are
    written (streaming formats) or parked in a file (JUnit, HTML) as they are
    made. 16 and 512 copies of one dump must peak within 3 MiB of each other
    (holding the entries would add about 22 KiB of JSON per copy)."""
    if os.environ.get("DT_SANITIZED") == "1":
        R.skip("memory growth: a sanitizer's quarantine keeps freed memory")
        return
    if not os.access(TIME, os.X_OK):
        R.check(not IN_CI, f"GNU time is required in CI: {TIME}")
        R.skip(f"memory growth: {TIME} is not installed")
        return
    source = inputs.path(SEED)
    peaks = {}
    for count in (16, 512):
        folder = inputs.path(f"copies-{count}")
        os.makedirs(folder)
        for i in range(count):
            os.link(source, os.path.join(folder, f"{i:04d}.dmp"))
        for fmt in ("json", "html"):
            code, peaks[count, fmt] = peak_rss_kib([folder, "--format", fmt, "--jobs", "2"]
                                                   + inputs.options, inputs.root)
            R.equal(code, 0, f"memory growth: {count} copies as {fmt} are analyzed")
        B.remove(folder)
    for fmt in ("json", "html"):
        growth = peaks[512, fmt] - peaks[16, fmt]
        R.check(growth < 3 * 1024, f"memory growth: {fmt}, 16 copies peak at {peaks[16, fmt]} "
                f"KiB, 512 at {peaks[512, fmt]} KiB (+{growth} KiB, bound 3072)")


def main():
    B.require_synth(R)
    root = tempfile.mkdtemp(prefix="dt-batch-cli-")
    try:
        inputs = B.make_inputs(root)
        before = inputs.checksums()
        check_fail_on(inputs)
        check_precedence(inputs)
        check_progress_and_colour(inputs)
        check_output(inputs)
        check_memory_is_flat(inputs)
        check_park_file(inputs)
        after = inputs.checksums()
        R.equal(sorted(after), sorted(before), "inputs: no file added or removed among the inputs")
        R.equal([p for p in before if after.get(p) != before[p]], [],
                "inputs: every input file has its checksum and mtime of before")
    finally:
        B.remove(root)
    R.finish()


if __name__ == "__main__":
    main()
