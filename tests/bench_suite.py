#!/usr/bin/env python3
"""tests/bench_suite.py - ringo-bench itself: its JSON and CSV reports,
`compare`, and the exit status of a run in which a benchmark fails.

Usage: bench_suite.py PATH/TO/ringo-bench. Exits 0 pass, 1 fail (one line
per failed check), 77 skip, like the C tests (tests/test.h). Each test_*
returns a list of failures; every test runs even if an earlier one failed.
The runs are tiny (`yield --reps 1`, a fraction of a second): the suite
checks behaviour, not speed.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

FIELDS = ["bench", "impl", "mode", "procs", "n", "ns_per_op"]
TIMEOUT_S = 120

BENCH = None
TMP = None


def run(args, env=None):
    """Run ringo-bench with args; return (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BENCH] + args, capture_output=True, text=True,
                       env=e, timeout=TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


def tiny_json():
    """A `yield --reps 1` report as (text, header, rows), or raise."""
    rc, out, err = run(["yield", "--reps", "1", "--json", "-"])
    if rc != 0:
        raise AssertionError(f"yield --json - exited {rc}: {err.strip()}")
    lines = [l for l in out.splitlines() if l.strip()]
    objs = [json.loads(l) for l in lines]
    return out, objs[0], objs[1:]


def row_ok(r):
    """Ran rows carry a number; skipped ones say why instead."""
    return "skipped" in r or isinstance(r.get("ns_per_op"), (int, float))


def test_json():
    fails = []
    _, header, rows = tiny_json()
    if header.get("header") is not True:
        fails.append(f"first JSON line is not the header: {header}")
    if not rows:
        fails.append("no result rows")
    for r in rows:
        missing = [f for f in FIELDS[:5] if f not in r]
        if missing or not row_ok(r):
            fails.append(f"row {r} lacks {missing or ['ns_per_op']}")
        if "failed" in r:
            fails.append(f"row failed: {r}")
    ringo = [r for r in rows if r.get("impl") == "ringo"]
    if len(ringo) != 1 or "ns_per_op" not in ringo[0] or ringo[0]["bench"] != "yield":
        fails.append(f"expected one measured yield/ringo row, got {ringo}")
    return fails


def test_csv():
    fails = []
    rc, out, err = run(["yield", "--reps", "1", "--csv", "-"])
    if rc != 0:
        return [f"yield --csv - exited {rc}: {err.strip()}"]
    table = list(csv.reader(io.StringIO(out)))
    head, rows = table[0], table[1:]
    missing = [f for f in FIELDS if f not in head]
    if missing:
        fails.append(f"CSV header {head} lacks {missing}")
    if not rows:
        fails.append("no CSV rows")
    for row in rows:
        if len(row) != len(head):
            fails.append(f"CSV row has {len(row)} fields, header {len(head)}: {row}")
            continue
        r = {k: v for k, v in zip(head, row) if v != ""}
        if any(f not in r for f in FIELDS[:5]) or not ("skipped" in r or "ns_per_op" in r):
            fails.append(f"CSV row lacks fields: {r}")
        else:
            float(r.get("ns_per_op", 0))
            int(r["procs"]), int(r["n"])
    return fails


def write_report(name, text, change):
    """A copy of the report text with change(row) applied to each row."""
    lines = [l for l in text.splitlines() if l.strip()]
    out = [lines[0]]
    for l in lines[1:]:
        r = json.loads(l)
        change(r)
        out.append(json.dumps(r))
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path


def scale(r, pred, k):
    if pred(r) and "ns_per_op" in r:
        for key in ("ns_per_op", "ns_min", "ns_max"):
            r[key] *= k


def verdicts(out):
    """{(bench, impl, mode): last word of its compare line}."""
    v = {}
    for line in out.splitlines():
        w = line.split()
        if len(w) >= 4 and w[1] in ("ringo", "go"):
            v[(w[0], w[1], w[2])] = w[-1]
    return v


def test_compare():
    fails = []
    text, _, rows = tiny_json()
    old = write_report("old.json", text, lambda r: None)
    is_ringo = lambda r: r["impl"] == "ringo"
    slow = write_report("slow.json", text, lambda r: scale(r, is_ringo, 2.0))
    # +2% for ringo, -2% for go: real changes, both under the 5% threshold.
    near = write_report("near.json", text, lambda r: scale(
        r, lambda _: True, 1.02 if is_ringo(r) else 0.98))
    key = ("yield", "ringo", "-")

    rc, out, err = run(["compare", old, slow])
    if rc != 0 or verdicts(out).get(key) != "slower":
        fails.append(f"2x: exit {rc}, verdict {verdicts(out).get(key)}, expected 0 and slower:\n{out}{err}")
    if "+100.0%" not in out:
        fails.append(f"2x: no +100.0% in:\n{out}")
    rc, out, err = run(["compare", "--fail-on-regression", old, slow])
    if rc != 1 or "yield/ringo" not in err:
        fails.append(f"2x --fail-on-regression: exit {rc} (expected 1), stderr: {err.strip()}")

    rc, out, err = run(["compare", "--fail-on-regression", old, near])
    v = verdicts(out)
    measured = [(r["bench"], r["impl"], r["mode"]) for r in rows if "ns_per_op" in r]
    if rc != 0 or any(v.get(k) != "~" for k in measured):
        fails.append(f"+-2%: exit {rc}, verdicts {v}, expected 0 and ~:\n{out}{err}")

    # The slow copy is faster than the old one seen the other way round.
    rc, out, _ = run(["compare", "--fail-on-regression", slow, old])
    if rc != 0 or verdicts(out).get(key) != "faster":
        fails.append(f"0.5x: exit {rc}, verdict {verdicts(out).get(key)}, expected 0 and faster")

    # A row only in one report, and a skipped one, are listed as such.
    def drop_go(r):
        if r["impl"] == "go":
            r.clear()
            r.update(bench="yield", impl="go", mode="-", procs=1, n=1,
                     skipped="no gobench binary")
    skipped = write_report("skipped.json", text, drop_go)
    extra = write_report("extra.json", text, lambda r: r.update(bench="other")
                         if r["impl"] == "go" else None)
    rc, out, _ = run(["compare", old, skipped])
    if rc != 0 or "skipped in new" not in out:
        fails.append(f"skipped row: exit {rc}, output:\n{out}")
    rc, out, _ = run(["compare", old, extra])
    if rc != 0 or "only in old" not in out or "only in new" not in out:
        fails.append(f"rows in one report only: exit {rc}, output:\n{out}")

    # Unreadable and malformed reports: exit 2 naming the file.
    bad = os.path.join(TMP, "bad.json")
    cases = {
        "missing": os.path.join(TMP, "no-such.json"),
        "empty": "",
        "no header": '{"bench":"yield","impl":"ringo","mode":"-","ns_per_op":1}\n',
        "truncated": text.splitlines()[0] + '\n{"bench":"yield","impl":\n',
        "no numbers": text.splitlines()[0] + '\n{"bench":"yield","impl":"ringo","mode":"-"}\n',
        "not json": "hello\n",
    }
    for what, content in cases.items():
        path = content if what == "missing" else bad
        if what != "missing":
            with open(bad, "w") as f:
                f.write(content)
        rc, out, err = run(["compare", old, path])
        if rc != 2 or path not in err:
            fails.append(f"{what} report: exit {rc} (expected 2), stderr: {err.strip()}")
    rc, _, err = run(["compare", old])
    if rc != 2:
        fails.append(f"compare with one report: exit {rc}, expected 2")

    # Server benchmarks: one (bench, impl, mode) at several n is several rows.
    head = text.splitlines()[0]
    def points(k):
        return "".join(json.dumps(dict(bench="echo", impl="ringo", mode="uring", procs=1,
                                       n=n, ns_per_op=k * n, ns_min=k * n, ns_max=k * n)) + "\n"
                       for n in (10, 1000))
    for name, k in (("points-old.json", 1.0), ("points-new.json", 2.0)):
        with open(os.path.join(TMP, name), "w") as f:
            f.write(head + "\n" + points(k))
    rc, out, err = run(["compare", os.path.join(TMP, "points-old.json"),
                        os.path.join(TMP, "points-new.json")])
    if rc != 0 or out.count("+100.0%") != 2 or "n 1000" not in out:
        fails.append(f"rows per n: exit {rc}, expected two +100.0% rows:\n{out}{err}")
    return fails


def test_failed_run():
    """A benchmark that fails makes the run exit 1 and names it on stderr;
    a missing Go twin is skipped, not failed (exit 0)."""
    fails = []
    rc, out, err = run(["yield", "--reps", "1"], env={"RINGO_GOBENCH": "/bin/false"})
    if rc != 1 or "failed: yield/go" not in err:
        fails.append(f"failing twin: exit {rc} (expected 1), stderr: {err.strip()}")
    if "FAILED" not in out:
        fails.append(f"failing twin: the table has no FAILED row:\n{out}")
    missing = os.path.join(TMP, "no-gobench")
    rc, out, err = run(["yield", "--reps", "1"], env={"RINGO_GOBENCH": missing})
    if rc != 0 or "skipped" not in out:
        fails.append(f"missing twin: exit {rc} (expected 0, skipped), stderr: {err.strip()}")
    return fails


def test_servers():
    """The server benchmarks are listed; a missing client tool skips their
    rows with the reason; a server that dies fails its row and the run."""
    fails = []
    rc, out, err = run(["--list"])
    names = [l.split()[0] for l in out.splitlines() if l.strip()]
    want = ["file", "echo", "http", "resp-get", "resp-set", "resp-get-p16", "resp-set-p16"]
    missing = [n for n in want if n not in names]
    if rc != 0 or missing:
        fails.append(f"--list: exit {rc}, missing {missing}")

    empty = os.path.join(TMP, "empty-path")
    os.makedirs(empty, exist_ok=True)
    rc, out, err = run(["http", "--reps", "1", "--json", "-"], env={"PATH": empty})
    rows = [json.loads(l) for l in out.splitlines()[1:] if l.strip()]
    if rc != 0 or not rows or any("wrk not found" not in r.get("skipped", "") for r in rows):
        fails.append(f"http without wrk: exit {rc}, rows {rows}, stderr: {err.strip()}")

    # A Go server that exits at once: its rows fail, the ringo ones run.
    rc, out, err = run(["echo", "--mode", "uring", "--reps", "1", "--json", "-"],
                       env={"RINGO_GOBENCH": "/bin/false"})
    rows = [json.loads(l) for l in out.splitlines()[1:] if l.strip()]
    if rc != 1 or "failed: echo/go" not in err:
        fails.append(f"echo with a dead Go server: exit {rc} (expected 1), stderr: {err.strip()}")
    for r in rows:
        if r["impl"] == "ringo" and "skipped" not in r and not (
                r.get("ops_per_s", 0) > 0 and r.get("server_cpu_ns_per_op", 0) > 0):
            fails.append(f"echo row without ops_per_s or server_cpu_ns_per_op: {r}")
    return fails


def main():
    global BENCH, TMP
    if len(sys.argv) != 2:
        print("usage: bench_suite.py PATH/TO/ringo-bench", file=sys.stderr)
        return 1
    BENCH = sys.argv[1]
    if not os.access(BENCH, os.X_OK):
        print(f"SKIP: no ringo-bench at {BENCH}", file=sys.stderr)
        return 77
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ringo-bench-test.") as TMP:
        for t in (test_json, test_csv, test_compare, test_failed_run, test_servers):
            try:
                fails = t()
            except Exception as e:  # a crash in one test must not hide others
                fails = [f"{type(e).__name__}: {e}"]
            for f in fails:
                print(f"FAIL {t.__name__}: {f}", file=sys.stderr)
            print(f"{'FAIL' if fails else 'ok  '} {t.__name__}")
            failed += bool(fails)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
