"""Inlined frames from PDBs against llvm-pdbutil.

For every S_INLINESITE of every corpus PDB, llvm-pdbutil decodes the binary
annotations (code ranges, relative lines), the inlinee's first line and
file (-il), and the names of the LF_FUNC_ID / LF_MFUNC_ID items, their
LF_STRING_ID scopes and their classes (-ids, -types). At the start and the
last byte of every code range, the provider must report exactly the chain of
sites covering that offset, innermost first, each with the qualified name
and the line and file llvm-pdbutil's data gives.

Usage: test_pdb_inline.py PDB_LOOKUP. Skips (exit 77) without the shared
corpus, or without llvm-pdbutil unless CI is set.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
from harness import IN_CI, Results, corpus_available  # noqa: E402
from test_pdb_oracle import LOOKUP, corpus_pdbs, pdbutil_sections, tool  # noqa: E402

MAX_PRINTED = 15
PROC = re.compile(r"^\s*(\d+) \| S_[GL]PROC32(?:_ID)? \[size = \d+\]")
ADDR = re.compile(r"addr = (\d+):(\d+), code size = (\d+)")
SITE = re.compile(r"^\s*(\d+) \| S_INLINESITE2? \[size = \d+\]")
INLINEE = re.compile(r"inlinee = (0x[0-9A-F]+) ")
CODE = re.compile(r"\bcode (0x[0-9A-F]+) \(\+0x[0-9A-F]+\)(?: code end (0x[0-9A-F]+))?")
LINE = re.compile(r"\bline (-?\d+) \([+-]\d+\)")
MODULE = re.compile(r"^\s*Mod (\d+) \|")


PDBUTIL = tool("llvm-pdbutil-16", "llvm-pdbutil", "llvm-pdbutil-14")


def pdbutil(*args):
    return subprocess.run([PDBUTIL, "dump", *args], capture_output=True, text=True,
                          timeout=300).stdout


def site_ranges(annotations):
    """(start, end, relative line) of a site's line program: an entry runs to
    its code end, else to the next entry's start; the last one needs an end."""
    entries, line = [], 0
    for text in annotations:
        m = LINE.search(text)
        if m:
            line = int(m.group(1))
        m = CODE.search(text)
        if m:
            entries.append([int(m.group(1), 16), int(m.group(2), 16) if m.group(2) else None, line])
    for entry, following in zip(entries, entries[1:]):
        if entry[1] is None:
            entry[1] = following[0]
    return [tuple(e) for e in entries if e[1] is not None and e[1] > e[0]]


def inline_sites(pdb):
    """{module: [(proc, site record offset, inlinee id, ranges)]} where proc
    is (record offset, rva): procedures folded to one address stay apart."""
    sections = pdbutil_sections(PDBUTIL, pdb)
    sites, module, proc, current = {}, None, None, None
    for text in pdbutil("-symbols", pdb).splitlines():
        m = MODULE.match(text)
        if m:
            module, proc, current = int(m.group(1)), None, None
            continue
        m = PROC.match(text)
        if m:
            proc, current = (int(m.group(1)), None), None
            continue
        m = ADDR.search(text)
        if m and proc and proc[1] is None:
            seg, off = int(m.group(1)), int(m.group(2))
            proc = (proc[0], sections[seg - 1] + off) if 0 < seg <= len(sections) else None
            continue
        m = SITE.match(text)
        if m:
            current = [int(m.group(1)), None, []]
            sites.setdefault(module, []).append((proc, current))
            continue
        if current is not None and re.match(r"^\s*\d+ \|", text):
            current = None
        elif current is not None:
            m = INLINEE.search(text)
            if m and current[1] is None:
                current[1] = int(m.group(1), 16)
            else:
                current[2].append(text)
    return {mod: [(proc, s[0], s[1], site_ranges(s[2])) for proc, s in entries
                  if proc and proc[1] is not None] for mod, entries in sites.items()}


def inlinee_starts(pdb):
    """{(module, inlinee id): [(first line, file)]}. An id can be listed
    twice in one module with different lines (functions whose LF_FUNC_ID
    records coincide); which entry a site means is then ambiguous."""
    starts, module = {}, None
    for text in pdbutil("-il", pdb).splitlines():
        m = MODULE.match(text)
        if m:
            module = int(m.group(1))
            continue
        m = re.match(r"^\s*(0x[0-9A-F]+) \|\s*(\d+) \| (.*) \([^()]*\)\s*$", text)
        if m:
            starts.setdefault((module, int(m.group(1), 16)), []).append((int(m.group(2)),
                                                                         m.group(3)))
    return starts


def last_component(name):
    depth, last = 0, 0
    for i, c in enumerate(name):
        depth += {"<": 1, ">": -1}.get(c, 0)
        if depth == 0 and name.startswith("::", i):
            last = i + 2
    return name[last:]


def inlinee_names(pdb):
    """{item id: qualified name} for LF_FUNC_ID and LF_MFUNC_ID items."""
    types = dict(re.findall(r"^\s*(0x[0-9A-F]+) \| LF_(?:CLASS|STRUCTURE|UNION|ENUM|INTERFACE) "
                            r"\[size = \d+\] `(.*)`$", pdbutil("-types", pdb), re.M))
    ids_text = pdbutil("-ids", pdb)
    strings = dict(re.findall(r"^\s*(0x[0-9A-F]+) \| LF_STRING_ID \[size = \d+\] ID: .*?, "
                              r"String: (.*)$", ids_text, re.M))
    names = {}
    for item, kind, name, link, parent in re.findall(
            r"^\s*(0x[0-9A-F]+) \| (LF_M?FUNC_ID) \[size = \d+\]\n\s*name = (.*?), type = \S+, "
            r"(class type|parent scope) = (.+)$", ids_text, re.M):
        scope = (types if kind == "LF_MFUNC_ID" else strings).get(parent)
        if scope and name in ("{ctor}", "{dtor}"):
            name = ("~" if name == "{dtor}" else "") + last_component(scope)
        names[int(item, 16)] = f"{scope}::{name}" if scope else name
    return names


def expected_chains(pdb):
    """{rva: [chain]} at the first and last byte of every range of every
    site: a chain is [(name, files, lines)], innermost first, with the files
    and lines its inlinee's entries allow. An inlinee without a first line has
    neither file nor line (0). Procedures folded to one address give one
    chain each; a lookup answers with one of them."""
    starts, names = inlinee_starts(pdb), inlinee_names(pdb)
    expected, unknown = {}, 0
    for module, sites in inline_sites(pdb).items():
        for proc, _, _, ranges in sites:
            for start, end, _ in ranges:
                for offset in (start, end - 1):
                    chain = []
                    for other, record, item, other_ranges in sites:
                        hit = next((r for r in other_ranges if r[0] <= offset < r[1]), None)
                        if other != proc or hit is None:
                            continue
                        firsts = starts.get((module, item), [])
                        unknown += not firsts
                        chain.append((record, names.get(item, "(inlined function)"),
                                      {f[1] for f in firsts} or {None},
                                      {f[0] + hit[2] for f in firsts} or {0}))
                    chains = expected.setdefault(proc[1] + offset, {})
                    chains[proc] = [c[1:] for c in sorted(chain, reverse=True)]
    return {rva: list(chains.values()) for rva, chains in expected.items()}, unknown


def same_chain(got, want):
    return len(got) == len(want) and all(
        name == frame[0] and file in frame[1] and line in frame[2]
        for (name, file, line), frame in zip(got, want))


def lookup_inlines(pdb, rvas):
    text = "".join(f"{rva:x}\n" for rva in rvas)
    out = subprocess.run([LOOKUP, pdb], input=text, capture_output=True, text=True, check=True,
                         timeout=300).stdout
    found = {}
    for line in out.splitlines()[1:]:
        fields = line.split("\t")
        frames = [] if fields[6] == "-" else fields[6].split(" | ")
        found[int(fields[0], 16)] = [tuple(re.match(r"(.*)@(.*):(\d+)$", f).groups())
                                     for f in frames]
    return {rva: [(n, None if f == "-" else f, int(ln)) for n, f, ln in chain]
            for rva, chain in found.items()}


def check_pdb(results, pdb, counts):
    expected, skipped = expected_chains(pdb)  # skipped: frames without a first line
    found = lookup_inlines(pdb, sorted(expected))
    label, agree, printed = os.path.basename(pdb), 0, 0
    for rva, chains in sorted(expected.items()):
        if any(same_chain(found.get(rva) or [], chain) for chain in chains):
            agree += 1
        elif printed < MAX_PRINTED:
            printed += 1
            print(f"FAIL {label} {rva:x}:\n  llvm: {chains}\n  ours: {found.get(rva)}")
    frames = sum(len(chains[0]) for chains in expected.values())
    counts.append(f"{label}: {agree}/{len(expected)} addresses with the same inline chain "
                  f"({frames} frames, {skipped} of inlinees without a first line)")
    results.check(len(expected) > 0, f"{label}: inline sites found by llvm-pdbutil")
    results.equal(agree, len(expected), f"{label}: inline chains matching llvm-pdbutil")


def main():
    results = Results("pdb_inline")
    if not corpus_available():
        print("SKIP shared corpus absent\n0 passed, 0 failed, 1 skipped")
        sys.exit(77)
    if not PDBUTIL:
        results.check(not IN_CI, "llvm-pdbutil is missing")
        print("SKIP llvm-pdbutil not installed\n0 passed, 0 failed, 1 skipped")
        sys.exit(1 if IN_CI else 77)
    counts = []
    for pdb in corpus_pdbs():
        check_pdb(results, pdb, counts)
    for line in counts:
        print(line)
    results.finish()


if __name__ == "__main__":
    main()
