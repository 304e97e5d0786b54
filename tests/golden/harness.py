"""Shared helpers of the script tests: running the CLI, validating reports
against docs/report.schema.json, and counting results."""
import functools
import http.server
import json
import os
import subprocess
import sys
import threading

SOURCE_DIR = os.environ.get("DT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_DIR = os.environ.get("DT_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
CLI = os.environ.get("DUMPTRIAGE", os.path.join(SOURCE_DIR, "build", "dumptriage"))
IN_CI = bool(os.environ.get("CI"))


def run(args, stdin=None, timeout=60):
    """Runs the CLI; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([CLI] + list(args), input=stdin, capture_output=True, timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace")


def report(args, **kw):
    code, out, err = run(list(args) + ["--format", "json"], **kw)
    return code, (json.loads(out) if out.strip() else None), err


_validator = None


def validate(document):
    """Validates a report against the schema; returns a list of messages."""
    global _validator
    if _validator is None:
        import jsonschema
        with open(os.path.join(SOURCE_DIR, "docs", "report.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in _validator.iter_errors(document)]
    return errors[:3] + ([f"... {len(errors) - 3} more"] if len(errors) > 3 else [])


class Results:
    def __init__(self, name):
        self.name, self.passed, self.failed, self.skipped = name, 0, 0, 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}")
        return ok

    def equal(self, actual, expected, what):
        return self.check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")

    def skip(self, why):
        self.skipped += 1
        print(f"SKIP {why}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped")
        sys.exit(1 if self.failed else 0)


def corpus_available():
    return os.path.isfile(os.path.join(SHARED_DIR, "corpus", "INDEX.md"))


def corpus_dumps():
    """Rows of corpus/INDEX.md whose kind is 'dump', as dicts."""
    rows = []
    with open(os.path.join(SHARED_DIR, "corpus", "INDEX.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 10 and cells[2] == "dump":
                path = cells[0].strip("`")
                rows.append({"path": os.path.join(SHARED_DIR, "corpus", path), "name": path,
                             "cpu": cells[3], "os": cells[4], "version": cells[5],
                             "threads": int(cells[6]), "modules": int(cells[7]),
                             "exception": cells[8] or None})
    return rows


class Server:
    """A static file server on 127.0.0.1 that records the paths asked for."""

    def __init__(self, root):
        self.requests = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                requests.append(self.path)

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
