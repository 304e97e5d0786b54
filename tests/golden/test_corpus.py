"""Golden tests of `dumptriage info` on every dump in ../shared/corpus:
the counts and facts stated in corpus/INDEX.md, and schema validity.
Skips cleanly when ../shared is absent."""
import os

from harness import Results, corpus_available, corpus_dumps, report, validate

R = Results("corpus")


def check_index_row(row):
    code, doc, err = report(["info", row["path"]])
    if not R.check(code == 0 and doc, f"{row['name']}: exit {code}: {err}"):
        return None
    R.equal(validate(doc), [], f"{row['name']} schema")
    R.equal(len(doc["threads"]), row["threads"], f"{row['name']} threads")
    R.equal(len(doc["modules"]), row["modules"], f"{row['name']} modules")
    R.equal(doc["system"]["cpu"], row["cpu"], f"{row['name']} cpu")
    exception = int(doc["exception"]["code"], 16) if doc["exception"] else None
    expected = int(row["exception"], 16) if row["exception"] else None
    R.equal(exception, expected, f"{row['name']} exception")
    if row["os"] == "WindowsNT":
        R.equal(doc["system"]["os_version"], row["version"], f"{row['name']} os_version")
    return doc


def by_name(docs, suffix):
    return next(d for name, d in docs.items() if name.endswith(suffix))


def stream_state(doc, name):
    return next((s["state"] for s in doc["dump"]["streams"] if s["name"] == name), None)


def check_stated_facts(docs):
    d = by_name(docs, "tiny-exe-with-cet-xsave.dmp")
    R.equal((d["system"]["os_version"], d["system"]["csd"]), ("10.0.22000", "282"), "cet os")
    R.equal((d["system"]["cpu_family"], d["system"]["cpu_model"], d["system"]["cpu_stepping"]),
            (6, 140, 1), "cet cpu_info")
    R.equal(d["exception"], None, "cet not crashed")
    R.check("rip" in d["threads"][0]["registers"], "cet XSTATE context decoded (rip)")
    for s in ("MemoryInfoList", "HandleData", "UnloadedModuleList"):
        R.equal(stream_state(d, s), "decoded", f"cet {s}")

    d = by_name(docs, "tiny-exe-with-cet-xsave-x86.dmp")
    R.equal((d["system"]["os_version"], d["system"]["csd"]), ("10.0.22631", ""), "cet-x86 os")
    R.equal((d["system"]["cpu_vendor"], d["system"]["cpu_family"], d["system"]["cpu_model"],
             d["system"]["cpu_stepping"]), ("GenuineIntel", 6, 151, 2), "cet-x86 cpu_info")
    R.equal(d["exception"], None, "cet-x86 not crashed")

    d = by_name(docs, "thread_name_list.dmp")
    R.equal(sum(1 for t in d["threads"] if t["name"]), 3, "thread names")
    altered = [m for m in d["modules"] if m["name"] in ("ntd1l.dll", "kern3l32.dll")]
    R.equal(len(altered), 2, "thread_name_list altered module names")
    R.check(all(m["pdb"] is None for m in altered), "thread_name_list: altered modules lack CodeView")

    a = by_name(docs, "invalid-parameter.dmp")["assertion"]
    R.equal((a["expression"], a["function"], a["file"], a["line"], a["type"]),
            ("format != nullptr", "common_vfprintf",
             "minkernel\\crts\\ucrt\\src\\appcrt\\stdio\\output.cpp", 32, "InvalidParameter"),
            "invalid-parameter assertion")

    s = by_name(docs, "stability-report.dmp")["stability_report"]
    R.equal((s["process_id"], s["process_handle_count"], s["process_peak_pagefile_usage"],
             s["process_peak_working_set"], s["process_private_usage"]),
            (15212, 302, 10778, 20550, 10767), "stability-report process")
    R.equal((s["system_commit_limit"], s["system_commit_remaining"], s["system_handle_count"]),
            (6483743, 3532245, 119009), "stability-report system")

    d = by_name(docs, "calc.dmp")
    calc = d["modules"][0]
    R.equal(d["dump"]["flags"], "0x40000", "calc flags")
    R.equal((calc["name"], calc["base"], calc["size"]), ("calc.exe", "0xfffe0000", 0xe3000),
            "calc module")
    R.equal(stream_state(d, "Token"), "decoded", "calc Token stream")
    ntdll = next(m for m in d["modules"] if m["name"] == "ntdll.dll")
    address = int(d["exception"]["address"], 16)
    base = int(ntdll["base"], 16)
    R.check(base <= address < base + ntdll["size"], "calc breakpoint in ntdll")
    R.equal(os.path.getsize(by_path(docs, "calc.dmp")), 36724, "calc size")

    d = by_name(docs, "electron+node-minidump/test/fixtures/windows.dmp")
    R.equal(stream_state(d, "FunctionTable"), "decoded", "electron FunctionTable")
    R.equal(stream_state(d, "BreakpadInfo"), "decoded", "electron Breakpad info")
    R.equal(stream_state(d, "BreakpadAssertion"), "decoded", "electron Breakpad assertion")

    d = by_name(docs, "sentry-native/tests/fixtures/minidump.dmp")
    R.equal(stream_state(d, "FunctionTable"), "decoded", "sentry FunctionTable")
    R.equal(stream_state(d, "ThreadNames"), "decoded", "sentry ThreadNames")

    d = by_name(docs, "BugSplatDotNetStandard.Test/Files/minidump.dmp")
    main = d["modules"][0]
    R.equal(int(d["exception"]["address"], 16) - int(main["base"], 16), 0x1620,
            "BugSplat crash at myConsoleCrasher.exe+0x1620")


_paths = {}


def by_path(docs, suffix):
    return next(p for name, p in _paths.items() if name.endswith(suffix))


def main():
    if not corpus_available():
        R.skip("../shared/corpus is absent")
        R.finish()
    docs = {}
    for row in corpus_dumps():
        _paths[row["name"]] = row["path"]
        doc = check_index_row(row)
        if doc:
            docs[row["name"]] = doc
    check_stated_facts(docs)
    R.finish()


main()
