#!/usr/bin/env python3
"""tests/bench_suite.py - ringo-bench itself: its JSON and CSV reports
(every field), `compare` (server rows on their server CPU), the exit status of a run in which a benchmark
fails, the memory check that skips points, --plot, the progress line, and
the server benchmarks (listed; skipped without their client; failed, with
the run, when a server dies), and the echo benchmark's floor
(ringo-echo-loop).

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
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

FIELDS = ["bench", "impl", "mode", "procs", "n", "ns_per_op"]
# What every measured row carries, and a measured ringo row besides.
MEASURED = FIELDS + ["ns_min", "ns_max", "reps", "noisy", "ops_per_s"]
RINGO_MEASURED = MEASURED + ["cpu_ns_per_op"]
# The JSON header: the machine, the build, the baselines, the run.
HEADER = ["header", "date", "cpu", "cores", "kernel", "io_uring", "ringo_commit",
          "go_version", "baselines", "mem_total_bytes", "mem_available_bytes",
          "max_map_count", "args", "quick", "reps"]
URING = ["available", "single_issuer", "defer_taskrun", "coop_taskrun", "features"]
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
    missing = [f for f in HEADER if f not in header]
    missing += [f"io_uring.{f}" for f in URING if f not in header.get("io_uring", {})
                and header.get("io_uring", {}).get("available")]
    if missing:
        fails.append(f"header lacks {missing}: {header}")
    if "go" not in header.get("baselines", {}):
        fails.append(f"header baselines lack go: {header.get('baselines')}")
    if header.get("args") != "yield --reps 1 --json -":
        fails.append(f"header args {header.get('args')!r}")
    if not rows:
        fails.append("no result rows")
    for r in rows:
        missing = [f for f in FIELDS[:5] if f not in r]
        if missing or not row_ok(r):
            fails.append(f"row {r} lacks {missing or ['ns_per_op']}")
        if "failed" in r:
            fails.append(f"row failed: {r}")
        if "ns_per_op" in r:
            want = RINGO_MEASURED if r["impl"] == "ringo" else MEASURED
            missing = [f for f in want if f not in r]
            if missing:
                fails.append(f"measured row lacks {missing}: {r}")
        if r.get("axis") != "procs":
            fails.append(f"yield row without axis procs: {r}")
    # yield is a curve over the Ps: one ringo row per P, 1..cores.
    ringo = [r for r in rows if r.get("impl") == "ringo"]
    procs = [r["procs"] for r in ringo]
    if procs != list(range(1, len(procs) + 1)) or any(
            "ns_per_op" not in r or r["bench"] != "yield" for r in ringo):
        fails.append(f"expected measured yield/ringo rows at procs 1..P, got {ringo}")
    return fails


def test_csv():
    fails = []
    rc, out, err = run(["yield", "--reps", "1", "--csv", "-"])
    if rc != 0:
        return [f"yield --csv - exited {rc}: {err.strip()}"]
    table = list(csv.reader(io.StringIO(out)))
    head, rows = table[0], table[1:]
    # Every field a JSON row can carry is a column.
    _, _, jrows = tiny_json()
    keys = set(MEASURED + ["axis", "skipped", "failed"])
    for r in jrows:
        keys |= set(r)
    missing = [f for f in sorted(keys) if f not in head]
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
    key = ("yield@procs=1", "ringo", "-")

    rc, out, err = run(["compare", old, slow])
    if rc != 0 or verdicts(out).get(key) != "slower":
        fails.append(f"2x: exit {rc}, verdict {verdicts(out).get(key)}, expected 0 and slower:\n{out}{err}")
    if "+100.0%" not in out:
        fails.append(f"2x: no +100.0% in:\n{out}")
    rc, out, err = run(["compare", "--fail-on-regression", old, slow])
    if rc != 1 or "yield@procs=1/ringo" not in err:
        fails.append(f"2x --fail-on-regression: exit {rc} (expected 1), stderr: {err.strip()}")

    rc, out, err = run(["compare", "--fail-on-regression", old, near])
    v = verdicts(out)
    measured = [(f"{r['bench']}@procs={r['procs']}", r["impl"], r["mode"])
                for r in rows if "ns_per_op" in r]
    if rc != 0 or any(v.get(k) != "~" for k in measured):
        fails.append(f"+-2%: exit {rc}, verdicts {v}, expected 0 and ~:\n{out}{err}")

    # The slow copy is faster than the old one seen the other way round.
    rc, out, _ = run(["compare", "--fail-on-regression", slow, old])
    if rc != 0 or verdicts(out).get(key) != "faster":
        fails.append(f"0.5x: exit {rc}, verdict {verdicts(out).get(key)}, expected 0 and faster")

    # A row only in one report, and a skipped one, are listed as such.
    def drop_go(r):
        if r["impl"] == "go":
            procs = r["procs"]
            r.clear()
            r.update(bench="yield", impl="go", mode="-", procs=procs, n=1,
                     axis="procs", skipped="no gobench binary")
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

    return fails


def test_compare_server():
    """A server row is compared on its server CPU per request, not on its
    ns_per_op (the client's throughput), so a costlier server fails
    --fail-on-regression."""
    fails = []
    text, _, _ = tiny_json()
    header = text.splitlines()[0]

    def report(name, ns, cpu):
        row = {"bench": "http-p1", "impl": "ringo", "mode": "uring", "procs": 1,
               "n": 100, "axis": "n", "ns_per_op": ns, "ns_min": ns * 0.98,
               "ns_max": ns * 1.02, "reps": 3, "noisy": False,
               "server_cpu_ns_per_op": cpu, "server_cpu_ns_min": cpu * 0.98,
               "server_cpu_ns_max": cpu * 1.02}
        path = os.path.join(TMP, name)
        with open(path, "w") as f:
            f.write(header + "\n" + json.dumps(row) + "\n")
        return path

    old = report("srv-old.json", 10000, 8000)
    costlier = report("srv-cpu.json", 10000, 16000)
    slower_client = report("srv-ns.json", 20000, 8000)
    key = ("http-p1@n=100", "ringo", "uring")
    rc, out, err = run(["compare", "--fail-on-regression", old, costlier])
    if rc != 1 or verdicts(out).get(key) != "slower" or "server cpu/op" not in out:
        fails.append(f"server CPU x2: exit {rc} (expected 1), verdicts {verdicts(out)}:\n{out}{err}")
    rc, out, err = run(["compare", "--fail-on-regression", old, slower_client])
    if rc != 0 or verdicts(out).get(key) != "~":
        fails.append(f"client ns/op x2, same server CPU: exit {rc} (expected 0), "
                     f"verdicts {verdicts(out)}:\n{out}{err}")
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
    want = ["file", "echo-p1", "echo", "http-p1", "http", "resp-get", "resp-set",
            "resp-get-p16", "resp-set-p16"]
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
    rc, out, err = run(["echo-p1", "--mode", "uring", "--reps", "1", "--json", "-"],
                       env={"RINGO_GOBENCH": "/bin/false"})
    rows = [json.loads(l) for l in out.splitlines()[1:] if l.strip()]
    if rc != 1 or "failed: echo-p1/go" not in err:
        fails.append(f"echo with a dead Go server: exit {rc} (expected 1), stderr: {err.strip()}")
    for r in rows:
        if r["impl"] in ("ringo", "loop") and "skipped" not in r and not (
                r.get("ops_per_s", 0) > 0 and r.get("server_cpu_ns_per_op", 0) > 0):
            said = [l for l in err.splitlines() if "loadgen" in l]
            fails.append(f"echo row without ops_per_s or server_cpu_ns_per_op: {r}; "
                         f"the load generator said: {said}")
    loops = sorted({r["mode"] for r in rows if r["impl"] == "loop"})
    if loops != ["uring"]:
        fails.append(f"echo --mode uring: loop rows in modes {loops}, expected ['uring']")
    return fails


def echo_loop_check(path, mode):
    """ringo-echo-loop in one mode: three connections each get back what
    they sent, an 8 MiB stream included, whose echo is not read until
    the sender stalls: the loop must hold back and resume without losing
    a byte (whether its own writes come up short on the way, its send
    buffer's growth decides)."""
    p = subprocess.Popen([path, "--mode", mode, "--addr", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().split()
        if line[:2] != ["listening", "on"]:
            return [f"{mode}: first line {line}, stderr: {p.stderr.read()}"]
        host, port = line[2].rsplit(":", 1)
        conns = []
        for _ in range(3):
            c = socket.socket()
            # A small window, so the loop's echo backs up sooner.
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.settimeout(30)
            c.connect((host, int(port)))
            conns.append(c)
        for i, c in enumerate(conns):
            msg = bytes([i]) * 64
            c.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += c.recv(len(msg) - len(got)) or b"EOF"
            if got != msg:
                return [f"{mode}: connection {i} sent 64 bytes, got {got[:80]!r}"]
        # Nothing is read back until the sender stalls.
        big = os.urandom(8 << 20)
        stalled = threading.Event()
        c = conns[0]
        c.setblocking(False)

        def send_big():
            off = 0
            try:
                while off < len(big):
                    try:
                        off += c.send(big[off:off + (1 << 16)])
                    except BlockingIOError:
                        stalled.set()
                        if not select.select([], [c], [], 30)[1]:
                            return
            finally:
                stalled.set()
        sender = threading.Thread(target=send_big)
        sender.start()
        stalled.wait()
        got = bytearray()
        while len(got) < len(big):
            if not select.select([c], [], [], 30)[0]:
                break
            chunk = c.recv(1 << 16)
            if not chunk:
                break
            got += chunk
        sender.join()
        for c in conns:
            c.close()
        if bytes(got) != big:
            return [f"{mode}: 8 MiB stream came back as {len(got)} bytes, "
                    f"{'equal' if big.startswith(bytes(got)) else 'different'} so far"]
        if p.poll() is not None:
            return [f"{mode}: exited {p.returncode}: {p.stderr.read()}"]
        return []
    finally:
        p.kill()
        p.wait()


def test_echo_loop():
    """The echo benchmark's floor echoes in both modes and names a bad
    address instead of running."""
    path = os.path.join(os.path.dirname(BENCH), "ringo-echo-loop")
    fails = echo_loop_check(path, "epoll") + echo_loop_check(path, "uring")
    p = subprocess.run([path, "--mode", "epoll", "--addr", "127.0.0.1:99999"],
                       capture_output=True, text=True, timeout=TIMEOUT_S)
    if p.returncode != 1 or "--addr 127.0.0.1:99999" not in p.stderr:
        fails.append(f"bad --addr: exit {p.returncode}, stderr {p.stderr.strip()!r}")
    return fails


def test_memory_skip():
    """A point whose goroutines would not fit in MemAvailable is skipped
    with the reason, and the run still succeeds."""
    rc, out, err = run(["park", "--reps", "1", "--json", "-"],
                       env={"RINGO_BENCH_MEMAVAILABLE": str(64 << 20)})
    rows = [json.loads(l) for l in out.splitlines()[1:] if l.strip()]
    skipped = [r for r in rows if "MemAvailable" in r.get("skipped", "")]
    if rc != 0 or len(skipped) != len(rows) or not rows:
        return [f"exit {rc}, rows {rows}, stderr: {err.strip()}"]
    return []


def png_ok(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot():
    """--plot draws one PNG per curve; without gnuplot it says so and the
    run still succeeds. Not a terminal: no progress line."""
    fails = []
    have = shutil.which("gnuplot")
    pdir = os.path.join(TMP, "plots")
    rc, out, err = run(["timer-stop", "--reps", "1", "--plot", pdir])
    png = os.path.join(pdir, "timer-stop.png")
    if rc != 0:
        fails.append(f"--plot: exit {rc}: {err.strip()}")
    elif have and not (os.path.exists(png) and png_ok(png)):
        fails.append(f"--plot: no PNG at {png}: {err.strip()}")
    if "\r" in err or "\033[K" in err:
        fails.append("stderr is not a terminal but got a progress line")
    # A PATH without gnuplot: a message, no failure.
    bare = os.path.join(TMP, "bin")
    os.makedirs(bare, exist_ok=True)
    rc, out, err = run(["timer-stop", "--reps", "1", "--plot", os.path.join(TMP, "none")],
                       env={"PATH": bare})
    if rc != 0 or "gnuplot not found" not in err:
        fails.append(f"--plot without gnuplot: exit {rc}, stderr: {err.strip()}")
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
        for t in (test_json, test_csv, test_compare, test_compare_server,
                  test_failed_run, test_memory_skip, test_plot, test_servers,
                  test_echo_loop):
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
