"""Compares the DWARF provider with binutils' addr2line on the fixture images.

Usage: test_dwarf_addr2line.py DWARF_LOOKUP [IMAGE...]

For every function symbol that x86_64-w64-mingw32-nm lists in each image
(default: fixtures/bin/*.exe and *.dll), the address symbol+4 is looked up
by tests/symbols/dwarf_lookup (our provider) and by
`x86_64-w64-mingw32-addr2line -a -f -i -C`. Per address, the frames
(function, file, line), innermost first, must be equal; function names are
compared without addr2line's parameter lists and without the return type
the Itanium demangler puts before a function template's name (our names,
WinDbg style, have neither), files as normalized paths. An address both
sides know nothing about ("??") agrees.

Prints each disagreement and the agreement rate per image and in total.
Fails when the total agreement is below MIN_AGREEMENT. A missing mingw-w64
tool skips (exit 77) unless CI is set.
"""
import glob
import os
import posixpath
import re
import shutil
import subprocess
import sys

SOURCE_DIR = os.environ.get("DT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = {"nm": "x86_64-w64-mingw32-nm", "addr2line": "x86_64-w64-mingw32-addr2line",
         "objdump": "x86_64-w64-mingw32-objdump"}
SKIP = 77
MIN_AGREEMENT = 0.99
SHOW_DISAGREEMENTS = 20


def tool_output(args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=True,
                          timeout=600).stdout


def image_base(image):
    for line in tool_output([TOOLS["objdump"], "-p", image]).splitlines():
        if line.startswith("ImageBase"):
            return int(line.split()[1], 16)
    raise ValueError(f"{image}: no ImageBase in objdump -p")


def function_addresses(image):
    """Addresses (VAs) of the text symbols nm lists, minus section symbols."""
    addresses = set()
    for line in tool_output([TOOLS["nm"], image]).splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "Tt" and not fields[2].startswith("."):
            addresses.add(int(fields[0], 16))
    return sorted(addresses)


def strip_parameters(name):
    """'ns::f(int) const' -> 'ns::f'; names without a parameter list stay."""
    name = re.sub(r"\s+const$", "", name)
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i]
    return name


def position(text):
    """'path:12 (discriminator 3)' -> (normalized path or None, line)."""
    text = re.sub(r" \(discriminator \d+\)$", "", text)
    path, _, line = text.rpartition(":")
    known = path not in ("", "??") and line not in ("?", "0")
    return (posixpath.normpath(path) if path not in ("", "??") else None,
            int(line) if known and line.isdigit() else 0)


def addr2line_frames(image, addresses):
    """{address: [(function, file, line), ...]} as addr2line answers."""
    text = "\n".join(f"{a:x}" for a in addresses) + "\n"
    lines = tool_output([TOOLS["addr2line"], "-a", "-f", "-i", "-C", "-e", image], text).splitlines()
    frames, current = {}, None
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x") and (i + 1 >= len(lines) or not lines[i + 1].startswith("0x")):
            current = int(lines[i], 16)
            frames[current] = []
            i += 1
            continue
        function, (path, line) = lines[i], position(lines[i + 1])
        if function != "??":
            frames[current].append((strip_parameters(function), path, line))
        i += 2
    return frames


def our_frames(helper, image, base, addresses):
    text = "\n".join(f"{a - base:x}" for a in addresses) + "\n"
    out = subprocess.run([helper, image], input=text, capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{helper} {image}: exit {out.returncode}: {out.stderr.strip()}")
    frames = {}
    for line in out.stdout.splitlines():
        fields = line.split("\t")
        va = int(fields[0], 16) + base
        frames[va] = []
        for k in range(1, len(fields) - 1, 2):
            path, number = position(fields[k + 1])
            frames[va].append((fields[k], path, number))
    return frames


def same_frames(theirs, ours):
    """Frames agree; a template's return type ("void f<int>") is ignored."""
    if theirs is None or ours is None or len(theirs) != len(ours):
        return theirs == ours
    for (their_name, *their_position), (our_name, *our_position) in zip(theirs, ours):
        same_name = their_name == our_name or their_name.endswith(" " + our_name)
        if not same_name or their_position != our_position:
            return False
    return True


def compare_image(helper, image):
    base = image_base(image)
    addresses = function_addresses(image)
    expected = addr2line_frames(image, addresses)
    actual = our_frames(helper, image, base, addresses)
    disagreements = [(a, expected.get(a), actual.get(a)) for a in addresses
                     if not same_frames(expected.get(a), actual.get(a))]
    return len(addresses), disagreements, base


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    missing = [t for t in TOOLS.values() if not shutil.which(t)]
    if missing:
        print(f"missing tools: {', '.join(missing)}")
        return 1 if os.environ.get("CI") else SKIP
    helper = sys.argv[1]
    images = sys.argv[2:] or sorted(glob.glob(os.path.join(SOURCE_DIR, "fixtures", "bin", "*.exe")) +
                                    glob.glob(os.path.join(SOURCE_DIR, "fixtures", "bin", "*.dll")))
    total = disagreeing = 0
    for image in images:
        count, disagreements, base = compare_image(helper, image)
        total += count
        disagreeing += len(disagreements)
        name = os.path.basename(image)
        print(f"{name}: {count - len(disagreements)}/{count} agree")
        for address, theirs, ours in disagreements[:SHOW_DISAGREEMENTS]:
            print(f"  DIFF {name} rva {address - base:#x}\n    addr2line {theirs}\n    ours      {ours}")
    rate = (total - disagreeing) / total if total else 1.0
    print(f"total: {total - disagreeing}/{total} agree ({100 * rate:.2f}%)")
    return 0 if rate >= MIN_AGREEMENT else 1


if __name__ == "__main__":
    sys.exit(main())
