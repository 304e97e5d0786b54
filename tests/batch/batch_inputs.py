"""The batch tests' input folder and how to run `dumptriage analyze` on it.

`make_inputs(root)` fills root/dumps with fixture dumps (gzipped and plain),
the synthetic seed000-w3wp-shutdown and healthy-w3wp mini dumps written by
dt-synth (and a copy of seed000 under another name), a dump cut inside its
stream directory (unreadable), a text file named .dmp, a dump with an
unusual extension found by its MDMP signature, and a README the folder walk
must ignore. It returns an `Inputs` with the paths, the analyze options
(--images, --symbols, --rules) and what each dump is expected to give.
"""
import gzip
import hashlib
import os
import shutil
import subprocess

from harness import CLI, IN_CI, SOURCE_DIR

BUILD_DIR = os.environ.get("DT_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
FIXTURES = os.path.join(SOURCE_DIR, "fixtures")
SYNTH = os.path.join(BUILD_DIR, "tests", "dt-synth")
SCHEMAS = os.path.join(SOURCE_DIR, "tests", "batch")
SCENARIOS = ("seed000-w3wp-shutdown", "healthy-w3wp")
IIS_RULE = "iis-shutdown-close-request-queue"

# Two test rules give the batch an informational and a warning finding, so
# every --fail-on level has a dump just at it and one just below it.
TEST_RULES = """\
version: 1
rules:
  - id: batch-test-lock-waiters
    title: A lock has waiters
    severity: info
    analyzer: lock_contention
    match:
      fact: waiter_count
      ge: 1
    summary: "{waiter_count} thread waits on {lock} held by thread {owner}."
    explanation: A rule of the batch report tests.
    advice: Nothing to do.
  - id: batch-test-busy-w3wp
    title: An IIS worker process with many threads
    severity: warning
    applies_to:
      process: w3wp.exe
    match:
      fact: thread_count
      ge: 20
    summary: "w3wp.exe has {thread_count} threads."
    explanation: A rule of the batch report tests.
    advice: Nothing to do.
"""

# Relative path under root -> (rule ids the dump must give, verdict prefix);
# None: the dump cannot be read. The built-in rules grow, so other findings
# may come too; the checks derive the rest (severities, JUnit failures,
# totals) from the JSON report.
EXPECTED = {
    "dumps/crash/av_read.mini.dmp.gz": ({"access-violation"}, "CRASH"),
    "dumps/crash/event_wait.bin": (set(), None),
    "dumps/crash/odd & <name> \u00fc.dmp": (set(), None),
    "dumps/crash/stack_overflow.mini.dmp": ({"stack-overflow"}, "CRASH"),
    "dumps/hang/cs_deadlock.full.dmp.gz": ({"batch-test-lock-waiters"}, None),
    "dumps/hang/w3wp.mini.dmp.gz": ({"batch-test-busy-w3wp"}, None),
    "dumps/iis/healthy-w3wp.dmp": (set(), None),
    "dumps/iis/recycled/w3wp-2140-copy.dmp": ({IIS_RULE}, "HANG"),
    "dumps/iis/seed000-w3wp-shutdown.dmp": ({IIS_RULE}, "HANG"),
    "dumps/broken/not-a-dump.dmp": (None, None),
    "dumps/broken/truncated.dmp": (None, None),
}
# Files with the same dump inside: the same bucket.
SAME_DUMP = [{"dumps/iis/seed000-w3wp-shutdown.dmp", "dumps/iis/recycled/w3wp-2140-copy.dmp"},
             {"dumps/crash/event_wait.bin", "dumps/crash/odd & <name> \u00fc.dmp"}]
SEVERITIES = ("info", "warning", "error")


class Inputs:
    def __init__(self, root):
        self.root = root
        self.folder = "dumps"                      # relative to root
        self.expected = EXPECTED
        self.paths = sorted(EXPECTED)              # the report order
        self.synth = os.path.join(root, "synth")
        self.rules = os.path.join(root, "batch-rules.yaml")
        images = [os.path.join(FIXTURES, "bin"), os.path.join(FIXTURES, "wine-dlls")]
        # The scenarios share module identities (same timestamps and sizes),
        # so seed000's images come first: they are the ones checked here.
        images += [os.path.join(self.synth, s, "images") for s in SCENARIOS]
        symbols = [os.path.join(self.synth, s, "symbols") for s in SCENARIOS]
        self.options = (sum((["--images", p] for p in images), []) +
                        sum((["--symbols", p] for p in symbols), []) +
                        ["--rules", self.rules, "--offline"])

    def unreadable(self, path):
        return self.expected[path][0] is None

    def path(self, relative):
        return os.path.join(self.root, relative)

    def checksums(self):
        """sha256 of every file under the input folder and the synth folder."""
        sums = {}
        for top in (os.path.join(self.root, self.folder), self.synth):
            for directory, _, files in os.walk(top):
                for name in files:
                    full = os.path.join(directory, name)
                    with open(full, "rb") as f:
                        sums[full] = (hashlib.sha256(f.read()).hexdigest(), os.stat(full).st_mtime_ns)
        return sums


def require_synth(results):
    """Ends the test as skipped when dt-synth is not built (a failure in CI)."""
    if os.access(SYNTH, os.X_OK):
        return
    results.check(not IN_CI, f"dt-synth is required in CI: {SYNTH}")
    results.skip(f"dt-synth not built: {SYNTH}")
    results.finish()


def _copy(source, target, decompress=False, limit=None):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if decompress:
        with gzip.open(source, "rb") as f:
            data = f.read()
    else:
        with open(source, "rb") as f:
            data = f.read()
    with open(target, "wb") as f:
        f.write(data[:limit] if limit else data)


def make_inputs(root):
    """Writes the input folder under `root`; returns an Inputs."""
    inputs = Inputs(root)
    subprocess.run([SYNTH, "--out", inputs.synth] + list(SCENARIOS), check=True,
                   capture_output=True, timeout=120)
    dumps = os.path.join(FIXTURES, "dumps")
    d = inputs.path
    _copy(os.path.join(dumps, "av_read.mini.dmp.gz"), d("dumps/crash/av_read.mini.dmp.gz"))
    _copy(os.path.join(dumps, "event_wait.mini.dmp.gz"), d("dumps/crash/event_wait.bin"), True)
    # Characters XML, HTML and URIs must escape, and UTF-8.
    _copy(os.path.join(dumps, "event_wait.mini.dmp.gz"), d("dumps/crash/odd & <name> \u00fc.dmp"),
          True)
    _copy(os.path.join(dumps, "stack_overflow.mini.dmp.gz"),
          d("dumps/crash/stack_overflow.mini.dmp"), True)
    _copy(os.path.join(dumps, "cs_deadlock.full.dmp.gz"), d("dumps/hang/cs_deadlock.full.dmp.gz"))
    _copy(os.path.join(dumps, "w3wp.mini.dmp.gz"), d("dumps/hang/w3wp.mini.dmp.gz"))
    seed = os.path.join(inputs.synth, SCENARIOS[0], "mini.dmp")
    _copy(seed, d("dumps/iis/seed000-w3wp-shutdown.dmp"))
    _copy(seed, d("dumps/iis/recycled/w3wp-2140-copy.dmp"))
    _copy(os.path.join(inputs.synth, SCENARIOS[1], "mini.dmp"), d("dumps/iis/healthy-w3wp.dmp"))
    # Cut inside the stream directory: nothing past the header is readable.
    _copy(os.path.join(dumps, "av_read.mini.dmp.gz"), d("dumps/broken/truncated.dmp"), True, 40)
    with open(d("dumps/broken/not-a-dump.dmp"), "w") as f:
        f.write("This is a text file with a dump's name.\n")
    with open(d("dumps/broken/README.txt"), "w") as f:
        f.write("Not a dump and not named like one: the folder walk skips it.\n")
    with open(inputs.rules, "w") as f:
        f.write(TEST_RULES)
    return inputs


def analyze(args, cwd=None, env=None, timeout=600, stderr=None):
    """Runs `dumptriage analyze ARGS`; returns (exit code, stdout bytes, stderr text)."""
    proc = subprocess.run([CLI, "analyze"] + list(args), cwd=cwd, env=env, capture_output=stderr is None,
                          stdout=subprocess.PIPE if stderr is not None else None,
                          stderr=stderr, timeout=timeout)
    err = proc.stderr.decode("utf-8", "replace") if proc.stderr is not None else ""
    return proc.returncode, proc.stdout, err


def clean_env(**changes):
    """The environment without CI and NO_COLOR, plus `changes`."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def remove(root):
    shutil.rmtree(root, ignore_errors=True)
