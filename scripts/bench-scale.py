#!/usr/bin/env python3
"""bench-scale.py — how lockstep's coordinator scales, measured on this machine.

For N = 16, 64, 256, 1024 workers (one `lockstep-worker --swarm N` process
beside one `lockstep run`), print: time to admit all, barrier round trip
(PREPARE -> last READY), start skew p50/p99/max, results per second,
coordinator CPU (whole run, per repetition, and for a 10 s phase) and peak
memory; then the idle worker's memory and CPU, and the GO broadcast (PUB,
start instant ahead) beside the naive way (GO to each worker in turn over the
ROUTER, each starting when its GO arrives: LOCKSTEP_GO_MODE=naive, a switch
for measurement only).

Start skew here: in each repetition, each worker's start minus the earliest
start (coordinator clock, as the workers report it with their measured
offsets), pooled over the repetitions; max is the largest per-repetition
max - min.  Everything comes from the run's own database (rep_timing,
results, workers) and from wait4's rusage of the coordinator.

usage: scripts/bench-scale.py [--bin build/bin] [--sizes 16,64,256,1024]
                              [--reps 20] [--markdown FILE]
"""
import argparse
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

NS = 1e9


def free_port():
    """An even port, below the ephemeral range, whose successor is free too
    (the PUB socket binds it)."""
    import random
    for _ in range(500):
        p = random.randrange(20000, 30000, 2)
        socks = []
        try:
            for port in (p, p + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return p
        except OSError:
            pass
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no free port")


def pct(values, q):
    """Type-7 quantile of a sorted list."""
    if not values:
        return float("nan")
    h = (len(values) - 1) * q
    lo = int(h)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (h - lo) * (values[hi] - values[lo])


def q_lost(db):
    con = sqlite3.connect(db)
    n = con.execute("SELECT COUNT(*) FROM workers WHERE status='lost'").fetchone()[0]
    con.close()
    return n


def run_once(bindir, n, reps, tmp, go_mode="pub", sleep_phase=True):
    """One coordinator + one swarm of n.  Returns a dict of figures."""
    port = free_port()
    tag = f"n{n}-{go_mode}-{'ten' if sleep_phase else 'go'}"
    db = os.path.join(tmp, tag + ".db")
    exp = os.path.join(tmp, tag + ".yaml")
    with open(exp, "w") as f:
        f.write(f"name: scale-{n}\nrepetitions: {reps}\nstart_delay: 500ms\nphases:\n"
                "  - name: null\n    bench: null\n")
        if sleep_phase:
            f.write("  - name: ten-seconds\n    bench: null\n    repetitions: 1\n"
                    "    params:\n      sleep: 10s\n")
    env = dict(os.environ)
    if go_mode != "pub":
        env["LOCKSTEP_GO_MODE"] = go_mode
    else:
        env.pop("LOCKSTEP_GO_MODE", None)
    # to files: a pipe nobody reads until the end fills with 1024 workers' summary
    out_f = open(os.path.join(tmp, tag + ".out"), "w+")
    err_f = open(os.path.join(tmp, tag + ".err"), "w+")
    coord = subprocess.Popen(
        [os.path.join(bindir, "lockstep"), "run", exp, "--expect", str(n), "--bind",
         f"tcp://127.0.0.1:{port}", "--db", db, "--timeout", "60", "--quiet"],
        stdout=out_f, stderr=err_f, env=env)
    time.sleep(0.3)  # bound before the swarm connects
    t_swarm = time.time_ns()
    swarm = subprocess.Popen(
        [os.path.join(bindir, "lockstep-worker"), "--swarm", str(n), "--name", "sw",
         "--connect", f"tcp://127.0.0.1:{port}", "--spool", os.path.join(tmp, "spool-" + tag),
         "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(coord.pid, 0)
    coord.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    out, err = out_f.read(), err_f.read()
    try:
        swarm.wait(timeout=30)
    except subprocess.TimeoutExpired:
        swarm.send_signal(signal.SIGTERM)
        swarm.wait()
    lost = q_lost(db)
    if coord.returncode not in (0, 3):
        print(out[-2000:], err[-2000:], file=sys.stderr)
        raise SystemExit(f"N={n} ({go_mode}): lockstep run exited {coord.returncode}")
    con = sqlite3.connect(db)
    q = lambda sql, *a: con.execute(sql, a).fetchall()
    admit = (q("SELECT MAX(joined_at) FROM workers")[0][0] - t_swarm) / NS
    rt = q("SELECT rep, skew_ns, barrier_ns, go_send_ns, collect_ns, coord_cpu_ns, skew_err_ns"
           " FROM rep_timing WHERE phase=0 ORDER BY rep")
    lags = []
    for (rep,) in q("SELECT DISTINCT rep FROM results WHERE phase=0"):
        starts = [s for (s,) in q("SELECT started_at FROM results WHERE phase=0 AND rep=?"
                                  " AND status='ok' AND started_at > 0", rep)]
        if starts:
            first = min(starts)
            lags += [s - first for s in starts]
    lags.sort()
    barrier = sorted(r[2] for r in rt)
    collect = sorted(r[4] for r in rt)
    cpu_rep = sorted(r[5] for r in rt)
    res = {
        "n": n, "mode": go_mode, "lost": lost,
        "admit_s": admit,
        "barrier_p50_ms": pct(barrier, 0.5) / 1e6, "barrier_max_ms": barrier[-1] / 1e6,
        "skew_p50_us": pct(lags, 0.5) / 1e3, "skew_p99_us": pct(lags, 0.99) / 1e3,
        "skew_max_us": max(r[1] for r in rt) / 1e3,
        "skew_err_us": pct(sorted(r[6] for r in rt), 0.5) / 1e3,
        "go_send_ms": pct(sorted(r[3] for r in rt), 0.5) / 1e6,
        # the start instant to the last result committed: null takes no time
        "results_per_s": n / (pct(collect, 0.5) / NS),
        "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024,
        "cpu_rep_ms": pct(cpu_rep, 0.5) / 1e6,
    }
    if sleep_phase:
        ten = q("SELECT coord_cpu_ns, collect_ns FROM rep_timing WHERE phase=1")
        if ten:
            cpu, collect10 = ten[0]
            # the phase as the coordinator lives it: PREPARE .. last result
            res["phase10_pct"] = 100.0 * cpu / (collect10 + barrier[0])
    con.close()
    return res


def idle_worker(bindir, tmp, seconds=10):
    """One real worker process, admitted and idle (the coordinator waits for
    a second one that never comes): its RSS and CPU share over `seconds`."""
    port = free_port()
    exp = os.path.join(tmp, "idle.yaml")
    with open(exp, "w") as f:
        f.write("name: idle\nphases:\n  - name: a\n    bench: null\n")
    coord = subprocess.Popen(
        [os.path.join(bindir, "lockstep"), "run", exp, "--expect", "2", "--bind",
         f"tcp://127.0.0.1:{port}", "--db", os.path.join(tmp, "idle.db"), "--timeout",
         str(seconds + 20), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    w = subprocess.Popen(
        [os.path.join(bindir, "lockstep-worker"), "--name", "idle", "--connect",
         f"tcp://127.0.0.1:{port}", "--spool", os.path.join(tmp, "idle-spool"), "--quiet"])
    time.sleep(2)  # admitted, clock measured

    def ticks():
        with open(f"/proc/{w.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.monotonic(), ticks()
    time.sleep(seconds)
    t1, c1 = time.monotonic(), ticks()
    with open(f"/proc/{w.pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    coord.send_signal(signal.SIGINT)
    coord.wait()
    w.send_signal(signal.SIGTERM)
    w.wait()
    return rss, 100.0 * (c1 - c0) / hz / (t1 - t0)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    return (f"{model}, {os.cpu_count()} cores, {mem:.1f} GiB, Linux {platform.release()}, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--sizes", default="16,64,256,1024")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--naive-sizes", default="64,256,1024")
    ap.add_argument("--markdown", help="also write the tables to this file")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    lines = [f"machine: {machine()}", f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}", ""]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="lockstep-bench-", dir="/var/tmp") as tmp:
        rows = []
        for n in sizes:
            r = run_once(a.bin, n, a.reps if n <= 256 else max(5, a.reps // 4), tmp)
            rows.append(r)
            print(f"N={n}: {r}", file=sys.stderr, flush=True)
        naive = []
        for n in [int(x) for x in a.naive_sizes.split(",") if x]:
            reps = a.reps if n <= 256 else max(5, a.reps // 4)
            naive.append([run_once(a.bin, n, reps, tmp, m, False)
                          for m in ("pub", "router", "naive")])
            print(f"N={n} GO modes: {naive[-1]}", file=sys.stderr, flush=True)
        rss, cpu = idle_worker(a.bin, tmp)
    t = ["| N | admit all (s) | barrier p50 / max (ms) | skew p50 / p99 / max (µs) | skew bound ± (µs) "
         "| results/s | coord CPU per rep (ms) | coord CPU, 10 s phase (%) | coord CPU total (s) "
         "| coord peak RSS (MiB) | lost |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        t.append(f"| {r['n']} | {r['admit_s']:.2f} | {r['barrier_p50_ms']:.1f} / {r['barrier_max_ms']:.1f} "
                 f"| {r['skew_p50_us']:.0f} / {r['skew_p99_us']:.0f} / {r['skew_max_us']:.0f} "
                 f"| {r['skew_err_us']:.0f} | {r['results_per_s']:.0f} | {r['cpu_rep_ms']:.1f} "
                 f"| {r.get('phase10_pct', float('nan')):.2f} | {r['cpu_s']:.2f} | {r['rss_mib']:.1f} "
                 f"| {r['lost']} |")
    t += ["", "GO broadcast vs GO to each worker in turn (same script run, back to back):", "",
          "| N | mode | GO send (ms) | skew p50 / p99 / max (µs) |", "|---:|---|---:|---:|"]
    for modes in naive:
        for r, label in zip(modes, ("PUB broadcast, start instant +500 ms (ours)",
                                    "ROUTER, each in turn, same start instant",
                                    "naive: ROUTER, each in turn, start on receipt")):
            t.append(f"| {r['n']} | {label} | {r['go_send_ms']:.2f} "
                     f"| {r['skew_p50_us']:.0f} / {r['skew_p99_us']:.0f} / {r['skew_max_us']:.0f} |")
    t += ["", f"idle worker (one lockstep-worker process, admitted, waiting): "
          f"{rss:.1f} MiB resident, {cpu:.2f} % of a core", "",
          f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    print("\n".join(t))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("\n".join(lines + t) + "\n")


if __name__ == "__main__":
    main()
