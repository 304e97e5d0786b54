"""valgrind memcheck over the golden CLI runs: info and stacks on a corpus
dump, a Wine fixture (gzip, images, symbols), a synthetic seed scenario
with .sym files, standard input, and a damaged dump. No memcheck error and
no definite or indirect leak is allowed. Skips in sanitizer builds (ASan
and valgrind do not mix) and when valgrind is absent, unless CI is set."""
import os
import shutil
import subprocess
import tempfile

from harness import CLI, IN_CI, SOURCE_DIR, Results, corpus_available, corpus_dumps

R = Results("valgrind")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "dt-synth")
VALGRIND = shutil.which("valgrind")
MEMCHECK = [VALGRIND or "valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"]


def memcheck(args, stdin=None):
    proc = subprocess.run(MEMCHECK + [CLI] + args, input=stdin, capture_output=True, timeout=600)
    R.check(proc.returncode in (0, 3),
            f"memcheck {' '.join(args)}: exit {proc.returncode}\n{proc.stderr.decode()[-2000:]}")


def runs(tmp):
    fixtures = os.path.join(SOURCE_DIR, "fixtures")
    dump = os.path.join(fixtures, "dumps", "cs_deadlock.mini.dmp.gz")
    images = ["--images", os.path.join(fixtures, "bin"), "--images",
              os.path.join(fixtures, "wine-dlls")]
    symbols = ["--symbols", os.path.join(fixtures, "bin"), "--symbols",
               os.path.join(fixtures, "wine-dlls")]
    yield ["info", dump], None
    yield ["stacks", "--format", "json", dump] + images + symbols, None
    subprocess.run([SYNTH, "--out", tmp, "seed000-w3wp-shutdown"], check=True, capture_output=True)
    seed = os.path.join(tmp, "seed000-w3wp-shutdown")
    yield ["stacks", os.path.join(seed, "mini.dmp"), "--images", os.path.join(seed, "images"),
           "--symbols", os.path.join(seed, "symbols")], None
    if corpus_available():
        corpus = next(r["path"] for r in corpus_dumps() if r["path"].endswith("calc.dmp"))
        with open(corpus, "rb") as f:
            data = f.read()
        yield ["info", "-"], data
        damaged = os.path.join(tmp, "damaged.dmp")
        with open(damaged, "wb") as f:
            f.write(data[: len(data) // 3])
        yield ["stacks", damaged], None


def main():
    if os.environ.get("DT_SANITIZED") == "1":
        R.skip("sanitizer build: memcheck runs in the default build")
        R.finish()
    if not VALGRIND:
        R.check(not IN_CI, "valgrind is required in CI")
        if not IN_CI:
            R.skip("valgrind is not installed")
        R.finish()
    with tempfile.TemporaryDirectory() as tmp:
        for args, stdin in runs(tmp):
            memcheck(args, stdin)
    R.finish()


main()
