"""Batch triage: one folder of dumps (fixtures, synthetic scenarios, an
unreadable dump, a non-dump named .dmp) analyzed into every report format.
Checks JSON and NDJSON against docs/report.schema.json, JUnit against the
vendored Jenkins XSD (xmllint), SARIF against the vendored OASIS 2.1.0 schema
(jsonschema), the HTML in headless Chromium (rendered DOM and a screenshot in
$DT_BUILD_DIR/test-output/), --jobs 1 against --jobs 2 byte for byte in every
format, and buckets (--summary, the JSON bucket, FNV-1a of the signature).
Missing xmllint or Chromium skip their checks unless CI is set."""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "batch"))

from harness import IN_CI, Results, validate  # noqa: E402
import batch_inputs as B  # noqa: E402

R = Results("batch")
FORMATS = ("text", "json", "ndjson", "junit", "sarif", "html")
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def need_tool(name, why):
    """True when `name` is on PATH; else a skip (a failure in CI)."""
    if shutil.which(name):
        return True
    if IN_CI:
        R.check(False, f"{name} is required in CI ({why})")
    else:
        R.skip(f"{name} is not installed: {why}")
    return False


def run_format(inputs, fmt, jobs=2, extra=()):
    args = [inputs.folder, "--format", fmt, "--jobs", str(jobs), "--fail-on", "warning"]
    return B.analyze(args + inputs.options + list(extra), cwd=inputs.root)


# ---- JSON and NDJSON -----------------------------------------------------------

def check_report_object(inputs, doc, what):
    path = doc.get("file")
    R.equal(validate(doc), [], f"{what}: {path}: schema")
    rules, verdict = inputs.expected.get(path, (None, None))
    if inputs.unreadable(path):
        error = doc.get("error") or {}
        R.check(error.get("stage") == "read" and error.get("message") and "offset" in error,
                f"{what}: {path}: error {{stage, message, offset}}: {error}")
        R.check(path in error.get("message", ""), f"{what}: {path}: the message names the file")
        return
    R.check(doc.get("error") is None and doc.get("command") == "analyze", f"{what}: {path}: analyzed")
    found = {f["rule_id"] for f in doc["findings"]}
    R.check(rules <= found, f"{what}: {path}: rule ids {sorted(found)} include {sorted(rules)}")
    R.check(re.match(r"(CRASH|HANG|BUSY|PROBLEM|PARTIAL|DAMAGED|OK): ", doc["verdict"]) is not None
            and (verdict is None or doc["verdict"].startswith(verdict + ":")),
            f"{what}: {path}: verdict {doc['verdict']!r}")
    severities = [f["severity"] for f in doc["findings"]]
    R.equal(severities, sorted(severities, key=B.SEVERITIES.index, reverse=True),
            f"{what}: {path}: findings most severe first")
    R.check(re.fullmatch(r"[0-9a-f]{16}", doc["bucket"]["hash"]) is not None,
            f"{what}: {path}: bucket hash")
    R.check(all(t.get("state") in ("running", "waiting", "idle") and "wait" in t
                for t in doc["threads"]) and doc["threads"], f"{what}: {path}: thread states")


def check_json(inputs, out):
    try:
        docs = json.loads(out)
    except ValueError as e:
        R.check(False, f"json: not JSON: {e}")
        return None
    if not R.check(isinstance(docs, list), "json: a folder gives an array"):
        return None
    R.equal([d.get("file") for d in docs], inputs.paths, "json: one object per dump, in path order")
    for doc in docs:
        check_report_object(inputs, doc, "json")
    by_file = {d["file"]: d for d in docs}
    seed = by_file.get("dumps/iis/seed000-w3wp-shutdown.dmp", {})
    finding = next((f for f in seed.get("findings", []) if f["rule_id"] == B.IIS_RULE), None)
    if R.check(finding is not None, "json: seed000 fires the IIS shutdown rule"):
        R.check("HttpCloseRequestQueue" in finding["summary"] and finding["thread_ids"] == [716]
                and finding["evidence"]["threads"][0]["thread_id"] == 716
                and finding["references"] and finding["advice"] and finding["explanation"],
                "json: the IIS finding's summary, threads, evidence, advice and references")
    healthy = by_file.get("dumps/iis/healthy-w3wp.dmp", {})
    R.check(all(f["severity"] == "info" for f in healthy.get("findings", [])),
            "json: healthy-w3wp has no warning or error finding")
    deadlock = by_file.get("dumps/hang/cs_deadlock.full.dmp.gz", {})
    locks = deadlock.get("locks", [])
    R.check(len(locks) == 2 and all(l["owner_thread_id"] and l["waiter_thread_ids"] for l in locks),
            f"json: cs_deadlock's two critical sections with owners and waiters: {locks}")
    evidence = [l for f in deadlock.get("findings", []) if f["rule_id"] == "batch-test-lock-waiters"
                for l in f["evidence"]["locks"]]
    R.check(len(evidence) == 2 and {e["address"] for e in evidence} == {l["address"] for l in locks},
            "json: the lock findings' evidence names the locks")
    return docs


def check_ndjson(inputs, out, docs):
    lines = out.decode("utf-8").splitlines()
    try:
        objects = [json.loads(line) for line in lines]
    except ValueError as e:
        R.check(False, f"ndjson: a line is not JSON: {e}")
        return
    R.check(all(isinstance(o, dict) for o in objects) and all(lines),
            "ndjson: one object per line, no blank lines")
    R.equal([o.get("file") for o in objects], inputs.paths, "ndjson: one line per dump in path order")
    for o in objects:
        R.equal(validate(o), [], f"ndjson: {o.get('file')}: schema")
    if docs is not None:
        R.check(objects == docs, "ndjson: the same objects as json")


def check_single(inputs):
    """One file argument gives one object; a folder of one dump an array."""
    seed = "dumps/iis/seed000-w3wp-shutdown.dmp"
    code, out, _ = B.analyze([seed, "--format", "json"] + inputs.options, cwd=inputs.root)
    doc = json.loads(out) if out.strip() else None
    R.check(isinstance(doc, dict) and doc.get("file") == seed, "single file: one object, not an array")
    if isinstance(doc, dict):
        R.equal(validate(doc), [], "single file: schema")
    R.equal(code, 0, "single file: exit 0 without --fail-on")
    code, out, _ = B.analyze(["dumps/broken/truncated.dmp", "--format", "json"], cwd=inputs.root)
    doc = json.loads(out) if out.strip() else None
    R.check(code == 3 and isinstance(doc, dict) and doc["error"]["stage"] == "read"
            and validate(doc) == [], "single unreadable file: one error object, exit 3")
    code, out, _ = B.analyze([seed, "--format", "ndjson"] + inputs.options, cwd=inputs.root)
    R.check(len(out.decode().splitlines()) == 1, "single file: one NDJSON line")
    code, out, _ = B.analyze(["dumps/iis/recycled", "--format", "json"] + inputs.options,
                             cwd=inputs.root)
    doc = json.loads(out) if out.strip() else None
    R.check(isinstance(doc, list) and len(doc) == 1, "a folder holding one dump: an array of one")
    code, out, _ = B.analyze([seed, "dumps/crash/av_read.mini.dmp.gz", "--format", "json"],
                             cwd=inputs.root)
    doc = json.loads(out) if out.strip() else None
    R.check(isinstance(doc, list) and [d["file"] for d in doc] ==
            ["dumps/crash/av_read.mini.dmp.gz", seed], "two files: an array in path order")


# ---- JUnit ------------------------------------------------------------------------

def check_junit(inputs, out, docs):
    try:
        root = ET.fromstring(out)
    except ET.ParseError as e:
        R.check(False, f"junit: not XML: {e}")
        return
    cases = root.findall("./testsuite/testcase")
    R.equal([c.get("name") for c in cases], inputs.paths, "junit: one testcase per dump in path order")
    failing = {d["file"] for d in docs or [] if not d.get("error") and d["findings"]
               and B.SEVERITIES.index(d["findings"][0]["severity"]) >= B.SEVERITIES.index("warning")}
    R.check({"dumps/iis/seed000-w3wp-shutdown.dmp", "dumps/hang/w3wp.mini.dmp.gz"} <= failing,
            "junit: dumps with an error and a warning finding fail at --fail-on warning")
    unreadable = {p for p in inputs.paths if inputs.unreadable(p)}
    for case in cases:
        name = case.get("name")
        failure, error = case.find("failure"), case.find("error")
        R.equal(failure is not None, name in failing, f"junit: {name}: <failure> at --fail-on warning")
        R.equal(error is not None, name in unreadable, f"junit: {name}: <error> when unreadable")
        if failure is not None and docs:
            doc = next(d for d in docs if d["file"] == name)
            R.check(failure.get("type") == doc["findings"][0]["rule_id"]
                    and failure.get("message") == doc["findings"][0]["summary"],
                    f"junit: {name}: failure type and message are the top finding")
        if error is not None:
            R.check(bool(error.get("message")), f"junit: {name}: error message")
    suite = root.find("./testsuite")
    if suite is not None:
        R.equal((suite.get("tests"), suite.get("failures"), suite.get("errors")),
                (str(len(inputs.paths)), str(len(failing)), str(len(unreadable))),
                "junit: testsuite counts")
    if need_tool("xmllint", "JUnit XSD validation"):
        with tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as f:
            f.write(out)
        proc = subprocess.run(["xmllint", "--noout", "--schema",
                               os.path.join(B.SCHEMAS, "junit-10.xsd"), f.name],
                              capture_output=True, text=True)
        R.check(proc.returncode == 0, f"junit: xmllint --schema junit-10.xsd: {proc.stderr.strip()}")
        os.unlink(f.name)


# ---- SARIF ------------------------------------------------------------------------

def sarif_validators():
    import jsonschema
    with open(os.path.join(B.SCHEMAS, "sarif-schema-2.1.0.json")) as f:
        schema = json.load(f)
    # Draft-07 as the CI's SARIF check uses, and the draft the schema declares.
    declared = jsonschema.validators.validator_for(schema)
    return [(v.__name__, v(schema, format_checker=v.FORMAT_CHECKER))
            for v in dict.fromkeys([jsonschema.Draft7Validator, declared])]


def check_sarif(inputs, out, docs):
    try:
        log = json.loads(out)
    except ValueError as e:
        R.check(False, f"sarif: not JSON: {e}")
        return
    for name, validator in sarif_validators():
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(log)]
        R.equal(errors[:3], [], f"sarif: valid against the OASIS 2.1.0 schema ({name})")
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    iis = rules.get(B.IIS_RULE, {})
    R.check(iis.get("shortDescription", {}).get("text") and iis.get("fullDescription")
            and iis.get("help") and iis.get("helpUri", "").startswith("https://")
            and iis.get("defaultConfiguration", {}).get("level") == "error",
            "sarif: rule metadata in tool.driver.rules")
    R.check({"batch-test-lock-waiters", "batch-test-busy-w3wp"} <= set(rules),
            "sarif: --rules rules are described too")
    results = run["results"]
    R.check(all(r["ruleId"] in rules for r in results), "sarif: every ruleId is a described rule")
    if docs is None:
        return
    expected = []
    for doc in docs:
        if doc.get("error"):
            expected.append(("input-error", "error", doc["error"]["message"], doc["file"]))
        for f in doc.get("findings", []):
            expected.append((f["rule_id"], SARIF_LEVEL[f["severity"]], f["summary"], doc["file"]))
    actual = [(r["ruleId"], r["level"], r["message"]["text"],
               urllib.parse.unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]))
              for r in results]
    R.equal(actual, expected, "sarif: one result per finding (ruleId, level, message, dump file)")


# ---- HTML -------------------------------------------------------------------------

def check_html(inputs, out, docs):
    page = out.decode("utf-8")
    R.check(page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>"), "html: a page")
    tags = re.findall(r"<[A-Za-z][^>]*>", page)
    references = [value for tag in tags for value in re.findall(
        r"""\s(?:src|href|xlink:href|action|poster|data|srcset)\s*=\s*["']?([^"'\s>]*)""", tag, re.I)]
    R.equal([r for r in references if not r.startswith("#")], [],
            "html: self-contained (no src=/href= to the web or to other files)")
    R.check(not re.search(r"<script|<link|<iframe|<img|@import|url\(", page, re.I),
            "html: no scripts, stylesheets, frames, images or CSS urls")
    seed = next((d for d in docs or [] if d["file"] == "dumps/iis/seed000-w3wp-shutdown.dmp"), None)
    summary = seed["findings"][0]["summary"] if seed and seed.get("findings") else None
    R.check(summary is not None and html.escape(summary, quote=True) in page and B.IIS_RULE in page,
            "html: the IIS finding's rule id and summary")
    R.check(all(html.escape(p, quote=True) in page for p in inputs.paths), "html: every dump")
    table = re.search(r'<table id="overview">(.*?)</table>', page, re.S)
    rows = re.findall(r'<tr><td><a href="#([^"]+)">([^<]*)</a></td><td[^>]*>([^<]*)</td>',
                      table.group(1)) if table else []
    R.equal([html.unescape(r[1]) for r in rows], list(inputs.paths), "html: an overview row per dump")
    verdicts = {d["file"]: d["verdict"] for d in docs or [] if "verdict" in d}
    R.check(rows and all(html.unescape(v) == verdicts[html.unescape(p)] for _, p, v in rows
                         if html.unescape(p) in verdicts), "html: the overview shows each verdict")
    R.check(rows and all(f'<section class="dump" id="{a}">' in page for a, _, _ in rows),
            "html: every overview link leads to its dump's section")
    if not need_tool("chromium", "HTML rendering"):
        return
    path = os.path.join(inputs.root, "report.html")
    with open(path, "wb") as f:
        f.write(out)
    output_dir = os.path.join(B.BUILD_DIR, "test-output")
    os.makedirs(output_dir, exist_ok=True)
    screenshot = os.path.join(output_dir, "batch-report.png")
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run"]
    profile = tempfile.mkdtemp(prefix="dt-chromium-")
    try:
        dom = subprocess.run(base + [f"--user-data-dir={profile}", "--dump-dom", f"file://{path}"],
                             capture_output=True, text=True, timeout=120)
        rendered = html.unescape(dom.stdout)
        R.check(dom.returncode == 0 and B.IIS_RULE in rendered and summary and summary in rendered,
                f"chromium: the rendered DOM holds the IIS finding (exit {dom.returncode})")
        R.check("truncated.dmp" in rendered and "not-a-dump.dmp" in rendered,
                "chromium: unreadable dumps are listed")
        shot = subprocess.run(base + [f"--user-data-dir={profile}", f"--screenshot={screenshot}",
                                      "--window-size=1280,2000", f"file://{path}"],
                              capture_output=True, text=True, timeout=120)
        ok = shot.returncode == 0 and os.path.isfile(screenshot)
        if ok:
            with open(screenshot, "rb") as f:
                ok = f.read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(screenshot) > 10000
        R.check(ok, f"chromium: screenshot {screenshot}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# ---- Text, determinism, buckets ------------------------------------------------------

def count_findings(docs, severity):
    return sum(f["severity"] == severity for d in docs or [] for f in d.get("findings", []))


def check_text(inputs, out, docs):
    text = out.decode("utf-8")
    R.check(all(p in text for p in inputs.paths), "text: every dump")
    totals = (f"\n{len(inputs.paths)} dumps: 2 unreadable; findings: {count_findings(docs, 'error')} "
              f"error, {count_findings(docs, 'warning')} warning, {count_findings(docs, 'info')} info\n")
    R.check(text.endswith(totals), f"text: the totals line {totals.strip()!r}")
    R.check("\x1b[" not in text, "text: no colour codes when stdout is not a terminal")


def check_determinism(inputs, outputs):
    for fmt in FORMATS:
        code, out, _ = run_format(inputs, fmt, jobs=1)
        first = outputs.get(fmt)
        R.check(first is not None and code == first[0] and out == first[1],
                f"determinism: --jobs 1 and --jobs 2 give identical {fmt} output")


def fnv1a64(text):
    h = 0xcbf29ce484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def check_buckets(inputs, docs):
    if docs is None:
        return
    readable = [d for d in docs if not d.get("error")]
    R.check(all(d.get("bucket", {}).get("signature") for d in readable), "buckets: every dump has one")
    R.check(all(fnv1a64(d["bucket"]["signature"]) == d["bucket"]["hash"] for d in readable),
            "buckets: hash = FNV-1a 64 of the signature")
    by_file = {d["file"]: d["bucket"] for d in readable}
    seed = by_file.get("dumps/iis/seed000-w3wp-shutdown.dmp")
    R.equal(by_file.get("dumps/iis/recycled/w3wp-2140-copy.dmp"), seed,
            "buckets: a copy under another name has the same bucket")
    R.equal(seed and seed["signature"],
            f"{B.IIS_RULE} | httpapi!HttpCloseRequestQueue | w3dt!UL_APP_POOL::Cleanup"
            " | w3dt!WP_CONTEXT::CleanupOutstandingRequests",
            "buckets: rule id, then three meaningful frames without offsets or wait frames")
    crash = by_file.get("dumps/crash/av_read.mini.dmp.gz", {}).get("signature", "")
    R.check(crash.startswith("access-violation | access_violation!"), f"buckets: crash: {crash}")
    groups = {}
    for path, bucket in by_file.items():
        groups.setdefault(bucket["hash"], set()).add(path)
    R.equal(sorted(map(sorted, (g for g in groups.values() if len(g) > 1))),
            sorted(map(sorted, B.SAME_DUMP)), "buckets: only copies of one dump share a bucket")
    # --summary: the bucket table counts the two copies together.
    code, out, err = B.analyze([inputs.folder, "--summary", "--jobs", "2"] + inputs.options,
                               cwd=inputs.root)
    text = out.decode("utf-8")
    R.check(re.search(r"\n\s+2  " + re.escape(seed["signature"]) + "\n", text) is not None,
            "summary: the bucket table groups the two seed000 dumps")
    for folder in sorted({os.path.dirname(p) for p in inputs.paths}):
        here = [d for d in docs if os.path.dirname(d["file"]) == folder]
        row = [len(here), sum(bool(d.get("error")) for d in here)] + [
            count_findings(here, s) for s in ("error", "warning", "info")]
        R.check(re.search(r"\n" + re.escape(folder) + r"\s+" + r"\s+".join(map(str, row)) + r"\s",
                          text) is not None, f"summary: the row of {folder}: {row}")
    code, out, err = B.analyze([inputs.folder, "--summary", "--format", "json"] + inputs.options,
                               cwd=inputs.root)
    R.check(json.loads(out) and "BUCKET" in err and "BUCKET" not in out.decode(),
            "summary: on stderr when the report is JSON on stdout")


def check_damaged(inputs):
    """A dump cut in the middle is read in part: analyzed, its damage in the
    diagnostics (docs/json.md), not an input error."""
    cut = inputs.path("damaged/cut.dmp")
    os.makedirs(os.path.dirname(cut))
    with open(inputs.path("dumps/crash/stack_overflow.mini.dmp"), "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    code, out, err = B.analyze(["damaged", "--format", "json"] + inputs.options, cwd=inputs.root)
    docs = json.loads(out) if out.strip() else []
    doc = docs[0] if docs else {}
    R.check(doc.get("error") is None and doc.get("command") == "analyze" and validate(doc) == [],
            f"damaged: analyzed with what is there, schema-valid ({code}: {err[-200:]})")
    R.check(any(d["level"] == "error" for d in doc.get("diagnostics", [])),
            "damaged: the damage is in diagnostics[] with level error")
    R.check(re.match(r"(CRASH|DAMAGED): ", doc.get("verdict", "")) is not None,
            f"damaged: the verdict does not claim OK: {doc.get('verdict')!r}")
    for fmt in ("junit", "sarif", "html", "text"):
        code, out, err = B.analyze(["damaged", "--format", fmt] + inputs.options, cwd=inputs.root)
        R.check(code in (0, 1) and out, f"damaged: a {fmt} report ({code})")


def main():
    B.require_synth(R)
    root = tempfile.mkdtemp(prefix="dt-batch-")
    try:
        inputs = B.make_inputs(root)
        outputs = {fmt: run_format(inputs, fmt) for fmt in FORMATS}
        for fmt, (code, out, err) in outputs.items():
            R.check(code == 3 and out, f"{fmt}: exit 3 (two unreadable inputs), a report; got exit "
                                       f"{code}{' (killed by a signal)' if code < 0 else ''}: {err[-300:]}")
        docs = check_json(inputs, outputs["json"][1])
        check_ndjson(inputs, outputs["ndjson"][1], docs)
        check_single(inputs)
        check_junit(inputs, outputs["junit"][1], docs)
        check_sarif(inputs, outputs["sarif"][1], docs)
        check_html(inputs, outputs["html"][1], docs)
        check_text(inputs, outputs["text"][1], docs)
        check_determinism(inputs, outputs)
        check_buckets(inputs, docs)
        check_damaged(inputs)
    finally:
        B.remove(root)
    R.finish()


if __name__ == "__main__":
    main()
