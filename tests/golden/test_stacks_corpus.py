"""x64 walks of the public corpus dumps, which carry no module images:
no crash; frame 0 is exactly the context's instruction pointer (the
exception context on the faulting thread); later frames are `scan` or
`frame_pointer` (or `cfi` from a FunctionTable stream); every scanned frame
sits just after a CALL whenever the dump holds the code bytes before it
(checked here with an independent reader of the dump's memory lists)."""
import json
import struct

from harness import Results, corpus_available, corpus_dumps, run, validate

R = Results("stacks-corpus")


class Memory:
    """MemoryList (5) and Memory64List (9) ranges of a minidump."""

    def __init__(self, data):
        self.data, self.ranges = data, []
        count, rva = struct.unpack_from("<II", data, 8)
        for i in range(count):
            kind, size, at = struct.unpack_from("<III", data, rva + 12 * i)
            if kind == 5:
                (n,) = struct.unpack_from("<I", data, at)
                first = at + 8 if size == 8 + 16 * n else at + 4
                for k in range(n):
                    start, length, offset = struct.unpack_from("<QII", data, first + 16 * k)
                    self.ranges.append((start, length, offset))
            elif kind == 9:
                n, offset = struct.unpack_from("<QQ", data, at)
                for k in range(n):
                    start, length = struct.unpack_from("<QQ", data, at + 16 + 16 * k)
                    self.ranges.append((start, length, offset))
                    offset += length

    def read(self, address, size):
        for start, length, offset in self.ranges:
            if start <= address and address + size <= start + length:
                return self.data[offset + address - start: offset + address - start + size]
        return None


def ends_with_call(code):
    """E8 rel32, or FF with ModRM reg field 2 (call r/m64) ending at the end."""
    if code[-5] == 0xE8:
        return True
    for length in range(2, 8):
        at = len(code) - length
        op = at + 1 if 0x40 <= code[at] <= 0x4F else at
        if code[op] == 0xFF and op + 1 < len(code) and (code[op + 1] >> 3) & 7 == 2:
            return True
    return False


def check_dump(row):
    code, out, err = run(["stacks", "--format", "json", "--no-group", row["path"]])
    if not R.check(code == 0, f"{row['name']}: exit {code}: {err[-200:]}"):
        return None
    doc = json.loads(out)
    R.equal(validate(doc), [], f"{row['name']} schema")
    with open(row["path"], "rb") as f:
        memory = Memory(f.read())
    exception = doc["exception"]
    for thread in doc["threads"]:
        frames = thread["frames"]
        if not frames:
            continue
        registers = exception["registers"] if thread["from_exception"] else thread["registers"]
        R.equal(frames[0]["address"], registers["rip"], f"{row['name']} thread {thread['id']} frame 0")
        for f in frames[1:]:
            R.check(f["trust"] in ("scan", "frame_pointer", "cfi"), f"{row['name']}: trust {f['trust']}")
            if f["trust"] != "scan":
                continue
            code_bytes = memory.read(int(f["address"], 16) - 8, 8)
            if code_bytes is not None:
                R.check(ends_with_call(code_bytes), f"{row['name']} {f['display']}: not after a call")
    return doc


def main():
    if not corpus_available():
        R.skip("../shared/corpus is absent")
        R.finish()
    for row in corpus_dumps():
        if row["cpu"] != "amd64" or row["os"] != "WindowsNT":
            continue
        doc = check_dump(row)
        if doc and row["name"].startswith("electron+node-minidump"):
            crashing = next(t for t in doc["threads"] if t["from_exception"])
            R.equal(crashing["frames"][0]["display"], "electron+0xe8da4", "electron frame 0")
        if doc:
            deeper = sum(1 for t in doc["threads"] if len(t["frames"]) > 1)
            R.check(deeper > 0, f"{row['name']}: some thread has frames beyond frame 0")
    R.finish()


main()
