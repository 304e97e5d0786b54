"""CLI behaviour: version, help, usage errors, exit codes, gzip and
standard input, unsupported and non-dump inputs."""
import gzip
import os
import tempfile

from harness import Results, corpus_available, corpus_dumps, run, report, validate

R = Results("cli")


def check_help():
    code, out, _ = run(["--version"])
    R.check(code == 0 and out.startswith("dumptriage "), "--version")
    code, out, _ = run(["help"])
    R.check(code == 0 and "info" in out, "help lists commands")
    code, out, _ = run(["info", "--help"])
    R.check(code == 0 and "--format" in out and "Exit status" in out, "info --help lists options")
    R.equal(run(["help", "info"])[0], 0, "help info")


def check_usage_errors():
    R.equal(run([])[0], 2, "no command")
    R.equal(run(["frobnicate"])[0], 2, "unknown command")
    R.equal(run(["info"])[0], 2, "missing DUMP")
    R.equal(run(["info", "--bogus", "x"])[0], 2, "unknown option")
    R.equal(run(["info", "--format", "xml", "x"])[0], 2, "bad format")
    R.equal(run(["info", "--format"])[0], 2, "option without value")


def write(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def check_unsupported(directory):
    kernel = write(directory, "kernel.dmp", b"PAGEDU64" + bytes(0x2000))
    code, _, err = run(["info", kernel])
    R.check(code == 3 and "kernel dump" in err and "not supported" in err, f"kernel dump: {err}")
    kernel32 = write(directory, "kernel32.dmp", b"PAGEDUMP" + bytes(0x1000))
    R.equal(run(["info", kernel32])[0], 3, "32-bit kernel dump")
    elf = write(directory, "core", b"\x7fELF" + bytes(60))
    code, _, err = run(["info", elf])
    R.check(code == 3 and "ELF" in err, f"ELF core: {err}")
    text = write(directory, "notes.txt", b"hello, this is not a dump at all\n")
    code, _, err = run(["info", text])
    R.check(code == 3 and "notes.txt" in err and "offset" in err, f"not a dump: {err}")
    code, doc, _ = report(["info", text])
    R.check(code == 3 and doc and doc["error"]["stage"] == "read", "JSON error entry")
    R.equal(validate(doc), [], "error report schema")
    R.equal(run(["info", os.path.join(directory, "missing.dmp")])[0], 3, "missing file")
    bad_gzip = write(directory, "bad.dmp.gz", b"\x1f\x8b\x08\x00" + bytes(20))
    R.equal(run(["info", bad_gzip])[0], 3, "damaged gzip")


def check_gzip_and_stdin(directory):
    if not corpus_available():
        R.skip("corpus absent: gzip/stdin round trip")
        return
    path = next(r["path"] for r in corpus_dumps() if r["path"].endswith("calc.dmp"))
    with open(path, "rb") as f:
        raw = f.read()
    plain = report(["info", path])[1]
    packed = report(["info", write(directory, "calc.bin", gzip.compress(raw))])[1]
    piped = report(["info", "-"], stdin=raw)[1]
    R.check(packed["dump"]["compressed"] and not plain["dump"]["compressed"], "gzip detected")
    for doc in (packed, piped):
        R.equal(doc["threads"], plain["threads"], "same threads through gzip/stdin")
        R.equal(doc["modules"], plain["modules"], "same modules through gzip/stdin")
    R.equal(piped["file"], "<stdin>", "stdin file label")
    code, out1, _ = run(["info", path])
    code2, out2, _ = run(["info", path])
    R.check(code == 0 and out1 == out2, "deterministic text output")


def check_time_budget():
    """--time-budget: past it, threads are left unwalked with a reason and a
    diagnostic, the verdict says PARTIAL, and a generous budget changes
    nothing."""
    dump = os.path.join(os.environ["DT_SOURCE_DIR"], "fixtures/dumps/cs_deadlock.full.dmp.gz")
    # Inflating 130 MB takes far longer than 1 ms, so no thread is walked.
    code, doc, _ = report(["analyze", "--time-budget", "1", dump])
    R.check(code == 0 and doc and doc["verdict"].startswith("PARTIAL: "), "budget: PARTIAL verdict")
    R.equal(validate(doc), [], "budget: schema")
    budget = [d for d in doc["diagnostics"] if d["structure"] == "time budget"]
    R.check(len(budget) == 1 and budget[0]["level"] == "warning", f"budget: diagnostic {budget}")
    cut = [t for t in doc["threads"] if "time budget" in t.get("end_reason", "")]
    R.check(cut and all(not t["frames"] for t in cut), "budget: unwalked threads have no frames")
    _, plain, _ = run(["analyze", "--format", "json", dump])
    _, generous, _ = run(["analyze", "--format", "json", "--time-budget", "600000", dump])
    R.check(plain == generous and "HANG: " in plain, "budget: a generous budget changes nothing")
    R.equal(run(["analyze", "--time-budget", "0", dump])[0], 2, "budget: 0 is a usage error")


def main():
    check_help()
    check_time_budget()
    check_usage_errors()
    with tempfile.TemporaryDirectory() as directory:
        check_unsupported(directory)
        check_gzip_and_stdin(directory)
    R.finish()


main()
