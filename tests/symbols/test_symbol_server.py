"""srv*<cache>*<url> entries against a throwaway HTTP server on 127.0.0.1:
images are downloaded by <name>/<TIMESTAMP><SIZEOFIMAGE>/<name> into the
cache and used; a later run finds them in the cache without the server;
--offline never asks the server; a missing file is asked for once per run
(negative cache) and reported."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import Results, Server, run

R = Results("symbol-server")
SYNTH = os.path.join(os.environ.get("DT_BUILD_DIR", "build"), "tests", "dt-synth")


def publish_images(scenario, served):
    """Copies the scenario's images into store layout under `served`."""
    code, out, _ = run(["info", "--format", "json", os.path.join(scenario, "mini.dmp")])
    modules = json.loads(out)["modules"]
    for m in modules:
        source = os.path.join(scenario, "images", m["name"])
        if os.path.isfile(source):
            target = os.path.join(served, m["name"], m["code_id"])
            os.makedirs(target, exist_ok=True)
            shutil.copy(source, os.path.join(target, m["name"]))
    return modules


def frames(dump, images, extra=()):
    code, out, err = run(["stacks", "--format", "json", "--no-group", dump, "--images", images]
                         + list(extra))
    R.check(code == 0, f"stacks exit {code}: {err}")
    doc = json.loads(out)
    return doc, [f["trust"] for t in doc["threads"] for f in t["frames"]]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([SYNTH, "--out", tmp, "seed000-w3wp-shutdown"], check=True)
        scenario = os.path.join(tmp, "seed000-w3wp-shutdown")
        served, cache = os.path.join(tmp, "served"), os.path.join(tmp, "cache")
        modules = publish_images(scenario, served)
        os.remove(os.path.join(served, "iiscore.dll", next(
            m["code_id"] for m in modules if m["name"] == "iiscore.dll"), "iiscore.dll"))
        server = Server(served)
        dump = os.path.join(scenario, "mini.dmp")
        entry = f"srv*{cache}*{server.url}"
        try:
            doc, trusts = frames(dump, entry)
            R.check(os.path.isfile(os.path.join(cache, "w3dt.dll")) or
                    any("w3dt.dll" in r for r in server.requests), "w3dt.dll asked for")
            downloaded = [m["name"] for m in modules
                          if os.path.isfile(os.path.join(cache, m["name"], m["code_id"], m["name"]))]
            R.check("w3dt.dll" in downloaded and "ntdll.dll" in downloaded,
                    f"images downloaded into the cache: {downloaded}")
            R.check(trusts.count("cfi") >= 5, f"downloaded images used for unwinding: {trusts}")
            missing = [r for r in server.requests if "iiscore.dll" in r]
            R.equal(len(missing), 1, f"a missing image is asked for once per run: {missing}")
            R.check(any("iiscore.dll" in d["message"] and "404" in d["message"]
                        for d in doc["diagnostics"]), "the failed download is reported")
            asked = len(server.requests)
            frames(dump, entry, ["--offline"])
            R.equal(len(server.requests), asked, "--offline asks the server nothing")
        finally:
            server.stop()
        _, offline_trusts = frames(dump, entry, ["--offline"])
        R.equal(offline_trusts, trusts, "the cache serves a later run without the server")
        check_symbol_downloads(tmp, scenario, dump)
    R.finish()


def check_symbol_downloads(tmp, scenario, dump):
    """The scenario's Breakpad store served over HTTP: .sym files are
    downloaded into the symbol cache and name the frames; a CAB-compressed
    PDB in the store is reported as unsupported."""
    store = os.path.join(scenario, "symbols")
    cab_dir = os.path.join(store, "w3dt.pdb")
    ids = os.listdir(cab_dir) if os.path.isdir(cab_dir) else []
    for i in ids:
        with open(os.path.join(cab_dir, i, "w3dt.pd_"), "wb") as f:
            f.write(b"MSCF" + bytes(60))
    server = Server(store)
    cache = os.path.join(tmp, "symbol-cache")
    try:
        doc, _ = frames(dump, os.path.join(scenario, "images"),
                        ["--symbols", f"srv*{cache}*{server.url}"])
    finally:
        server.stop()
    names = [f["display"] for t in doc["threads"] for f in t["frames"]]
    R.check("w3dt!UL_APP_POOL::Cleanup+0x62" in names, f"downloaded .sym names frames: {names[:6]}")
    R.check(any(name.endswith(".sym") for _, _, files in os.walk(cache) for name in files),
            ".sym files stored in the symbol cache")
    messages = [d["message"] for d in doc["diagnostics"]]
    if ids:
        R.check(any("CAB-compressed" in m for m in messages), "CAB-compressed PDB reported")


main()
