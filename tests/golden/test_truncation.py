"""Truncation sweep: every available dump (decompressed first) cut at 64
evenly spaced lengths gives exit 0 or 3 and never a crash. A cut that keeps
the header, the directory and the whole ThreadList still reports all of
those threads: the reader salvages what is intact."""
import glob
import gzip
import os
import struct
import tempfile

from harness import SOURCE_DIR, Results, corpus_available, corpus_dumps, run, validate
import json

R = Results("truncation")
CUTS = int(os.environ.get("DT_TRUNCATION_CUTS", "64"))


def available_dumps():
    paths = sorted(glob.glob(os.path.join(SOURCE_DIR, "fixtures", "**", "*.dmp*"), recursive=True))
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


def sweep(name, data, workdir):
    full_code, out, _ = run(["info", "--format", "json", "-"], stdin=data)
    if not R.check(full_code == 0, f"{name}: whole dump exit {full_code}"):
        return
    threads = len(json.loads(out)["threads"])
    keep = thread_list_end(data)
    cut_path = os.path.join(workdir, "cut.dmp")
    for k in range(CUTS):
        length = len(data) * k // CUTS
        with open(cut_path, "wb") as f:
            f.write(data[:length])
        code, out, err = run(["info", "--format", "json", cut_path])
        if not R.check(code in (0, 3), f"{name} cut at {length}: exit {code} {err[-300:]}"):
            continue
        if code == 3:
            R.check(err.startswith("dumptriage: ") and "cut.dmp" in err,
                    f"{name} cut at {length}: unclear error {err!r}")
            continue
        doc = json.loads(out)
        if k % 8 == 0:
            R.equal(validate(doc), [], f"{name} cut at {length} schema")
        if keep is not None and length >= keep:
            R.equal(len(doc["threads"]), threads, f"{name} cut at {length} salvaged threads")


def main():
    paths = available_dumps()
    if not paths:
        R.skip("no dumps available")
    with tempfile.TemporaryDirectory() as workdir:
        for path in paths:
            sweep(os.path.relpath(path, SOURCE_DIR), load(path), workdir)
    R.finish()


main()
