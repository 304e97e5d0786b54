"""Sweeps over damaged input. Every available dump (fixtures and
../shared/corpus, decompressed first) is cut at evenly spaced lengths and
mutated with seeded random bytes. Each result must be a report (exit 0) or
a clear error (exit 3), never a crash and never a hang over 5 s. A cut that
keeps the header, the directory and the whole ThreadList still reports all
of its threads: the reader salvages what is intact.

DT_SWEEP_CUTS (default 64) and DT_SWEEP_MUTATIONS (default 32) set the
sample; `make sweep` runs 64 cuts and 1,000 mutations per dump."""
import glob
import gzip
import json
import os
import random
import struct
import subprocess
import tempfile

from harness import CLI, SOURCE_DIR, Results, corpus_available, corpus_dumps, validate

R = Results("sweep")
CUTS = int(os.environ.get("DT_SWEEP_CUTS", "64"))
MUTATIONS = int(os.environ.get("DT_SWEEP_MUTATIONS", "32"))
TIMEOUT = 5


def available_dumps():
    paths = sorted(glob.glob(os.path.join(SOURCE_DIR, "fixtures", "dumps", "*.dmp*")))
    paths = [p for p in paths if ".full." not in p]  # full dumps: sampled by their minis
    if corpus_available():
        paths += [row["path"] for row in corpus_dumps()]
    return paths


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def thread_list_end(data):
    """End offset of the directory and the ThreadList stream, or None."""
    count, rva = struct.unpack_from("<II", data, 8)
    end = rva + 12 * count
    for i in range(count):
        kind, size, stream_rva = struct.unpack_from("<III", data, rva + 12 * i)
        if kind == 3:
            return max(end, stream_rva + size)
    return None


def run_cli(command, path):
    try:
        proc = subprocess.run([CLI, command, "--format", "json", path], capture_output=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", "timed out"
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode("utf-8", "replace")


def check_result(what, code, err):
    if code is None:
        return R.check(False, f"{what}: hung for more than {TIMEOUT} s")
    if not R.check(code in (0, 3), f"{what}: exit {code} {err[-300:]}"):
        return False
    if code == 3:
        R.check(err.startswith("dumptriage: "), f"{what}: unclear error {err!r}")
    return code == 0


def sweep_cuts(name, data, path, threads):
    keep = thread_list_end(data)
    for k in range(CUTS):
        length = len(data) * k // CUTS
        with open(path, "wb") as f:
            f.write(data[:length])
        code, out, err = run_cli("info", path)
        if not check_result(f"{name} cut at {length}", code, err):
            continue
        doc = json.loads(out)
        if k % 8 == 0:
            R.equal(validate(doc), [], f"{name} cut at {length} schema")
        if keep is not None and length >= keep:
            R.equal(len(doc["threads"]), threads, f"{name} cut at {length} salvaged threads")


def sweep_mutations(name, data, path):
    rng = random.Random(name)
    for m in range(MUTATIONS):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        with open(path, "wb") as f:
            f.write(mutated)
        code, _, err = run_cli("stacks", path)
        check_result(f"{name} mutation {m}", code, err)


def main():
    paths = available_dumps()
    if not paths:
        R.skip("no dumps available")
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "damaged.dmp")
        for source in paths:
            name = os.path.relpath(source, SOURCE_DIR)
            data = load(source)
            with open(path, "wb") as f:
                f.write(data)
            code, out, err = run_cli("info", path)
            if not R.check(code == 0, f"{name}: whole dump exit {code}"):
                continue
            sweep_cuts(name, data, path, len(json.loads(out)["threads"]))
            sweep_mutations(name, data, path)
    R.finish()


main()
