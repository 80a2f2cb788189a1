#!/usr/bin/env python3
"""Fidelity harness: lockstep's built-in benchmarks against their reference
tools on this machine, in alternating pairs (ours, theirs / theirs, ours ...)
with the same parameters, both pinned to the same CPU, so that drift in the
machine's state and other sessions' load hit both alike.

Each benchmark is compared in up to two modes:
  time  fixed time, the rate each tool counts and reports;
  work  fixed work (the amount the reference did in --time seconds in a
        first calibration run): the rate each tool reports, the ratio of
        the wall times of the whole processes, and the ratio of the CPU time
        they and their descendants used (user + system), which decides when
        to stop adding pairs: sharing the CPU with other sessions stretches
        wall time but not CPU time (disk_seq's one pass: the tools' rates).
Per pair the ratio ours/reference is taken; the result is the geometric mean
of the pair ratios, 20 % trimmed, with its 95 % confidence interval (Yuen's:
Student's t on the winsorized log ratios), so that a pair that a burst of
other sessions' load hit on one side only does not decide it; the plain
geometric mean with its t interval is printed beside it.  Pairs are added until the interval is within +-TARGET % of the
ratio (converged) or the budget runs out (max pairs, or time: --budget
seconds): the table says which.  Not part of the test suite: a measurement, recorded in
docs/fidelity.md.

usage: scripts/fidelity.py [--time 2] [--target 2] [--min-pairs 8] [--max-pairs 40]
       [--budget 240] [--cpu N] [--modes time,work] [--only cpu,mem,disk_seq,disk_rand,fork,iperf]
       [--dir /var/tmp] [--file-size 1G] [--worker build/bin/lockstep-worker]
"""
import argparse
import json
import math
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PIN = []  # taskset -c N, set in main()
LAST_CPU = [None]  # CPU seconds of the last run(), its waited-for descendants included

# two-sided 95 % quantiles of Student's t, by degrees of freedom
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
       17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 22: 2.074, 24: 2.064, 26: 2.056, 28: 2.048,
       30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t95(df):
    keys = sorted(k for k in T95 if k <= df)
    return T95[keys[-1]] if keys else T95[1]


class RunFailed(Exception):
    pass


def run(cmd, pin=True):
    """Run cmd (pinned); its stdout and wall time in seconds."""
    full = (PIN if pin else []) + cmd
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(full, capture_output=True, text=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    if p.returncode != 0:
        raise RunFailed(f"{' '.join(full)} failed ({p.returncode}):\n{p.stdout[-2000:]}"
                        f"{p.stderr[-2000:]}")
    return p.stdout, wall


def ours(worker, bench, params, metric, workdir, pin=True):
    out, wall = run([worker, "--run", bench, "--json", "--spool", workdir] +
                    [f"{k}={v}" for k, v in params.items()], pin)
    doc = json.loads(out)
    if doc["status"] != "ok":
        sys.exit(f"fidelity: our {bench} failed: {doc['error']}")
    return doc["metrics"][metric], wall


def grab(out, pattern, what):
    m = re.search(pattern, out)
    if not m:
        sys.exit(f"fidelity: no '{pattern}' in {what} output:\n{out}")
    return float(m.group(1))


def sysbench(args, pattern):
    out, wall = run(["sysbench"] + args + ["run"])
    return grab(out, pattern, "sysbench"), wall


def fio(args, field):
    # a fresh file each run, as ours gets: a reused file's layout differs
    for a in args:
        if a.startswith("--filename=") and os.path.exists(a[11:]):
            os.unlink(a[11:])
    out, wall = run(["fio", "--output-format=json"] + args)
    job = json.loads(out)["jobs"][0]
    rw = "write" if "write" in field else "read"
    if field.endswith("iops"):
        return job[rw]["iops"], wall
    return job[rw]["bw_bytes"] / 2**20, wall  # MiB/s


def _free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def iperf_ours(worker, t, workdir):
    """Our server and our client (each in its own forked child, as a
    scheduled pair runs them) on loopback; not pinned (two processes)."""
    port = _free_port()
    srv = subprocess.Popen([worker, "--run", "iperf", "--json", "--spool", workdir, "role=server",
                            f"port={port}", f"time={t}s"], stdout=subprocess.PIPE, text=True)
    try:
        cli = ours(worker, "iperf", {"role": "client", "peers": f"127.0.0.1:{port}",
                                     "streams": 5, "time": f"{t}s"}, "received_Mbps", workdir,
                   pin=False)
    finally:
        srv.communicate(timeout=t + 30)
    return cli


def iperf_ref(t):
    port = _free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):  # the server listens a moment after it starts
            t0 = time.monotonic()
            p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-P", "5", "-t", str(t),
                                "-J"], capture_output=True, text=True)
            wall = time.monotonic() - t0
            doc = json.loads(p.stdout or "{}")
            if "error" not in doc or "refused" not in doc.get("error", ""):
                break
            time.sleep(0.1)
        if "error" in doc:
            sys.exit(f"fidelity: iperf3 failed: {doc['error']}")
        return doc["end"]["sum_received"]["bits_per_second"] / 1e6, wall
    finally:
        srv.wait(timeout=t + 30)


class Case:
    """One benchmark: its unit, a run of ours and of the reference in
    'time' mode (returning rate, wall), and optionally in 'work' mode given
    the amount of work (returning rate, wall); work_of(rate) is the amount
    the reference does in --time seconds; work_unit per second is the unit."""

    def __init__(self, unit, timed, work=None, work_of=None, refcmd="", workcmd="",
                 wall=True):
        self.unit, self.timed, self.work, self.work_of = unit, timed, work, work_of
        self.refcmd, self.workcmd, self.wall = refcmd, workcmd, wall


def cases(a, workdir):
    t = a.time
    size = a.file_size
    w = a.worker
    fio_file = os.path.join(workdir, "fio.dat")
    forksum = a.forksum
    mem = {"block_size": "4K", "operation": "write", "access": "seq", "threads": 1}
    sb_mem = ["memory", "--memory-block-size=4K", "--memory-oper=write",
              "--memory-access-mode=seq", "--threads=1"]
    return {
        "cpu": Case(
            "events/s",
            (lambda: ours(w, "cpu", {"max_prime": 10000, "threads": 1, "time": f"{t}s"},
                          "events_per_sec", workdir),
             lambda: sysbench(["cpu", "--cpu-max-prime=10000", "--threads=1", f"--time={t}"],
                              r"events per second:\s+([0-9.]+)")),
            (lambda n: ours(w, "cpu", {"max_prime": 10000, "threads": 1, "events": n, "time": 0},
                            "events_per_sec", workdir),
             lambda n: sysbench(["cpu", "--cpu-max-prime=10000", "--threads=1", f"--events={n}",
                                 "--time=0"], r"events per second:\s+([0-9.]+)")),
            lambda rate: int(rate * t),
            f"sysbench cpu --cpu-max-prime=10000 --threads=1 --time={t}",
            "sysbench cpu --cpu-max-prime=10000 --threads=1 --events=N --time=0"),
        "mem": Case(
            "MiB/s",
            (lambda: ours(w, "mem", dict(mem, total_size="100T", time=f"{t}s"), "MiB_per_sec",
                          workdir),
             lambda: sysbench(sb_mem + ["--memory-total-size=100T", f"--time={t}"],
                              r"MiB transferred \(([0-9.]+) MiB/sec\)")),
            (lambda n: ours(w, "mem", dict(mem, total_size=f"{n}M", time=0), "MiB_per_sec",
                            workdir),
             lambda n: sysbench(sb_mem + [f"--memory-total-size={n}M", "--time=0"],
                                r"MiB transferred \(([0-9.]+) MiB/sec\)")),
            lambda rate: int(rate * t),
            f"sysbench memory --memory-block-size=4K --memory-oper=write --memory-access-mode=seq "
            f"--memory-total-size=100T --time={t}",
            "sysbench memory ... --memory-total-size=NM --time=0"),
        "disk_seq": Case(
            "MiB/s",
            (lambda: ours(w, "disk_seq", {"operation": "read", "block_size": "1M",
                                          "file_size": size, "direct": "true", "dir": workdir,
                                          "time": f"{t}s"}, "MiB_per_sec", workdir),
             lambda: fio(["--name=seq", f"--filename={fio_file}", "--rw=read", "--bs=1M",
                          "--direct=1", "--ioengine=psync", f"--size={size}", "--time_based",
                          f"--runtime={t}"], "read_bw")),
            # one pass over the file: the file's layout is in the process's wall time,
            # so only the tools' own rates are compared
            (lambda n: ours(w, "disk_seq", {"operation": "read", "block_size": "1M",
                                            "file_size": size, "direct": "true", "dir": workdir,
                                            "time": 0}, "MiB_per_sec", workdir),
             lambda n: fio(["--name=seq", f"--filename={fio_file}", "--rw=read", "--bs=1M",
                            "--direct=1", "--ioengine=psync", f"--size={size}"], "read_bw")),
            lambda rate: size,
            f"fio --rw=read --bs=1M --direct=1 --ioengine=psync --size={size} --time_based "
            f"--runtime={t}",
            f"fio --rw=read --bs=1M --direct=1 --ioengine=psync --size={size} (one pass)",
            wall=False),
        "disk_rand": Case(
            "IOPS",
            (lambda: ours(w, "disk_rand", {"operation": "read", "block_size": "4K",
                                           "iodepth": 64, "engine": "libaio",
                                           "file_size": size, "direct": "true", "dir": workdir,
                                           "time": f"{t}s"}, "iops", workdir),
             lambda: fio(["--name=rand", f"--filename={fio_file}", "--rw=randread", "--bs=4k",
                          "--iodepth=64", "--direct=1", "--ioengine=libaio", f"--size={size}",
                          "--time_based", f"--runtime={t}"], "read_iops")),
            refcmd=f"fio --rw=randread --bs=4k --iodepth=64 --direct=1 --ioengine=libaio "
                   f"--size={size} --runtime={t} (ours: engine=libaio)"),
        "fork": Case(
            "forks/s",
            (lambda: ours(w, "fork", {"start": 1, "end": 100, "time": f"{t}s"}, "forks_per_sec",
                          workdir),
             lambda: (grab(run([forksum, "1", "100", "--time", str(t)])[0],
                           r"forks/s:\s+([0-9.]+)", "forksum"), None)),
            (lambda n: ours(w, "fork", {"start": 1, "end": 100, "events": n, "time": 0},
                            "forks_per_sec", workdir),
             lambda n: s_forksum_trees(forksum, n)),
            lambda rate: max(1, int(rate * t / 198)),
            f"forksum 1 100 --time {t}",
            "forksum 1 100 --trees N"),
        "iperf": Case(
            "Mbit/s",
            (lambda: iperf_ours(w, t, workdir), lambda: iperf_ref(t)),
            refcmd=f"iperf3 -s -1 & iperf3 -c 127.0.0.1 -P 5 -t {t} (not pinned)"),
    }


def s_forksum_trees(forksum, n):
    out, wall = run([forksum, "1", "100", "--trees", str(n)])
    return grab(out, r"forks/s:\s+([0-9.]+)", "forksum"), wall


def interval(ratios):
    """Geometric mean of the ratios, its 95 % interval (lo, hi) from
    Student's t on the log ratios, and the relative half-width."""
    logs = [math.log(r) for r in ratios]
    n = len(logs)
    m = statistics.fmean(logs)
    if n < 2:
        return math.exp(m), 0.0, float("inf"), float("inf")
    h = t95(n - 1) * statistics.stdev(logs) / math.sqrt(n)
    return math.exp(m), math.exp(m - h), math.exp(m + h), math.exp(h) - 1


TRIM = 0.2


def robust_interval(ratios):
    """The same with the 20 % trimmed mean of the log ratios and Yuen's
    interval (t on the winsorized variance, h - 1 degrees of freedom): one
    pair that another session's burst of load hit on one side only moves the
    plain mean by its whole weight and widens its interval for good; here it
    is trimmed.  With fewer than 5 pairs nothing is trimmed."""
    logs = sorted(math.log(r) for r in ratios)
    n = len(logs)
    g = int(TRIM * n) if n >= 5 else 0
    h = n - 2 * g
    if h < 2:
        return interval(ratios)
    tm = statistics.fmean(logs[g:n - g])
    wins = [logs[g]] * g + logs[g:n - g] + [logs[n - g - 1]] * g
    se = math.sqrt((n - 1) * statistics.variance(wins) / (h * (h - 1)))
    half = t95(h - 1) * se
    return math.exp(tm), math.exp(tm - half), math.exp(tm + half), math.exp(half) - 1


def s_pair(i, mine, ref):
    """One pair, ABBA: which side goes first alternates, so that a steady
    drift cancels.  ((rate, wall, cpu) ours, (rate, wall, cpu) reference)"""
    def side(f):
        v, w = f()
        return v, w, LAST_CPU[0]
    if i % 2 == 0:
        x = side(mine)
        return x, side(ref)
    y = side(ref)
    return side(mine), y


def compare(name, mode, mine, ref, unit, a, use_wall=False):
    """Alternate pairs until converged or out of budget; a result row."""
    xs, ys, rs, wr, cr = [], [], [], [], []
    t_end = time.monotonic() + a.budget
    why = "max pairs"
    failed = 0
    while len(rs) < a.max_pairs:
        try:
            pair = s_pair(len(rs), mine, ref)
        except RunFailed as e:
            # e.g. a fork tree's child killed from outside: on a shared
            # machine PIDs wrap every few seconds at thousands of forks/s,
            # and another session's `kill -9` of a stale PID can land here
            failed += 1
            print(f"  {name}/{mode}: pair dropped: {e}", file=sys.stderr, flush=True)
            if failed > 3:
                raise
            continue
        (x, xw, xc), (y, yw, yc) = pair
        xs.append(x)
        ys.append(y)
        rs.append(x / y)
        if xw is not None and yw is not None:
            wr.append(yw / xw)  # the same work: rate ratio = inverse wall ratio
            cr.append(yc / xc)  # and inverse ratio of the CPU time it took
        g, lo, hi, half = robust_interval(rs)
        if use_wall:
            # fixed work: decide on the CPU time, which time-sharing with
            # other sessions does not change, unlike the rates over wall time
            g, lo, hi, half = robust_interval(cr)
        print(f"  {name}/{mode} pair {len(rs)}: ours {x:.1f} reference {y:.1f} {unit}"
              f"  ratio {x / y:.4f}  so far {g:.4f} [{lo:.4f}, {hi:.4f}]"
              f"  load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        if len(rs) >= a.min_pairs and half * 100 <= a.target:
            why = "converged"
            break
        if time.monotonic() > t_end:
            why = "time"
            break
    g, lo, hi, half = robust_interval(rs)
    wall = robust_interval(wr) if wr and use_wall else None
    cpu = robust_interval(cr) if cr and use_wall else None
    return dict(name=name, mode=mode, unit=unit, n=len(rs), ours=statistics.median(xs),
                ref=statistics.median(ys), ratio=g, lo=lo, hi=hi, half=half, why=why, wall=wall,
                cpu=cpu, plain=interval(rs))


def s_all(a, table):
    """Every benchmark and mode in turn; the table."""
    rows = []
    for name in a.only.split(","):
        if name not in table:
            sys.exit(f"fidelity: unknown benchmark '{name}' (known: {', '.join(table)})")
        c = table[name]
        for mode in a.modes.split(","):
            if mode == "time":
                rows.append(compare(name, mode, c.timed[0], c.timed[1], c.unit, a))
            elif mode == "work" and c.work:
                n = c.work_of(c.timed[1]()[0])  # what the reference does in --time
                mine, ref = c.work
                rows.append(compare(name, mode, lambda: mine(n), lambda: ref(n), c.unit, a,
                                    use_wall=c.wall))
                rows[-1]["work"] = n
            rows[-1].setdefault("refcmd", c.refcmd if mode == "time" else c.workcmd)
    print(f"{'benchmark':<10} {'mode':<5} {'unit':<9} {'pairs':>5} {'ours':>11} "
          f"{'reference':>11} {'ratio':>7} {'95% interval':>17} {'ended by':>9}  "
          f"{'plain geomean [95%]':>24}  {'wall-time ratio (work)':>24}  CPU-time ratio (work)")
    for r in rows:
        wall = (f"{r['wall'][0]:.3f} [{r['wall'][1]:.3f}, {r['wall'][2]:.3f}]"
                if r.get("wall") else "")
        if r.get("cpu"):
            wall = f"{wall:>24}  {r['cpu'][0]:.3f} [{r['cpu'][1]:.3f}, {r['cpu'][2]:.3f}]"
        print(f"{r['name']:<10} {r['mode']:<5} {r['unit']:<9} {r['n']:>5} {r['ours']:>11.1f} "
              f"{r['ref']:>11.1f} {r['ratio']:>7.3f} [{r['lo']:.3f}, {r['hi']:.3f}] "
              f"{r['why']:>9}  {r['plain'][0]:.3f} [{r['plain'][1]:.3f}, "
              f"{r['plain'][2]:.3f}]  {wall}", flush=True)
    print("references:")
    for r in rows:
        print(f"  {r['name']}/{r['mode']}: {r['refcmd']}"
              + (f"  (work {r['work']})" if "work" in r else ""))
    print(f"# load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main():
    global PIN
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time", type=float, default=2, help="seconds per run (and of work)")
    ap.add_argument("--target", type=float, default=2,
                    help="stop adding pairs when the 95%% interval is within +-this %%")
    ap.add_argument("--min-pairs", type=int, default=8)
    ap.add_argument("--max-pairs", type=int, default=40)
    ap.add_argument("--budget", type=float, default=240,
                    help="seconds per benchmark and mode after which no pair is added")
    ap.add_argument("--cpu", type=int, default=None,
                    help="the CPU both sides run on (default: the last one allowed)")
    ap.add_argument("--modes", default="time,work")
    ap.add_argument("--dir", default="/var/tmp", help="where disk test files go (a real disk, not tmpfs)")
    ap.add_argument("--file-size", default="1G")
    ap.add_argument("--only", default="cpu,mem,disk_seq,disk_rand,fork")
    ap.add_argument("--worker", default=os.path.join(HERE, "..", "build", "bin", "lockstep-worker"))
    ap.add_argument("--forksum", default=None, help="the reference forksum (default: beside the worker)")
    # kept for old command lines: a fixed number of pairs
    ap.add_argument("--pairs", type=int, default=None, help="exactly this many pairs (no adapting)")
    a = ap.parse_args()
    if a.pairs:
        a.min_pairs = a.max_pairs = a.pairs
        a.target = 0
    a.forksum = a.forksum or os.path.join(os.path.dirname(a.worker), "forksum")
    a.time = int(a.time) if a.time == int(a.time) else a.time
    for tool in ("sysbench", "fio", "iperf3"):
        if not shutil.which(tool):
            sys.exit(f"fidelity: '{tool}' is not installed (scripts/deps.sh installs it)")
    for exe in (a.worker, a.forksum):
        if not os.access(exe, os.X_OK):
            sys.exit(f"fidelity: {exe}: not built (cmake --build --preset default)")
    if shutil.which("taskset"):
        cpu = a.cpu if a.cpu is not None else max(os.sched_getaffinity(0))
        PIN = ["taskset", "-c", str(cpu)]
    workdir = tempfile.mkdtemp(prefix="lockstep-fidelity-", dir=a.dir)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  {' '.join(PIN) or 'not pinned'}  "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    try:
        s_all(a, cases(a, workdir))
    except RunFailed as e:
        sys.exit(f"fidelity: {e}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
