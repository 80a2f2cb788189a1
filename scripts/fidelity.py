#!/usr/bin/env python3
"""Fidelity harness: lockstep's built-in benchmarks against their reference
tools on this machine, alternating ours and theirs (A B A B ...) with the same
parameters, so drift in the machine's state hits both alike.

Prints, per benchmark: our median, the reference's median, the ratio of
medians and the spread of the per-pair ratios.  Not part of the test suite:
a measurement, recorded in docs/fidelity.md.

usage: scripts/fidelity.py [--pairs 5] [--time 5] [--dir /var/tmp] [--only cpu,mem,...]
       [--worker build/bin/lockstep-worker] [--file-size 1G]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"fidelity: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def ours(worker, bench, params, metric, workdir):
    out = run([worker, "--run", bench, "--json", "--spool", workdir] +
              [f"{k}={v}" for k, v in params.items()])
    doc = json.loads(out)
    if doc["status"] != "ok":
        sys.exit(f"fidelity: our {bench} failed: {doc['error']}")
    return doc["metrics"][metric], doc["details"]


def sysbench(args, pattern):
    out = run(["sysbench"] + args + ["run"])
    m = re.search(pattern, out)
    if not m:
        sys.exit(f"fidelity: no '{pattern}' in sysbench output:\n{out}")
    return float(m.group(1))


def fio(args, field):
    # a fresh file each run, as ours gets: a reused file's layout differs
    for a in args:
        if a.startswith("--filename=") and os.path.exists(a[11:]):
            os.unlink(a[11:])
    doc = json.loads(run(["fio", "--output-format=json"] + args))
    job = doc["jobs"][0]
    rw = "write" if "write" in field else "read"
    if field.endswith("iops"):
        return job[rw]["iops"]
    return job[rw]["bw_bytes"] / 2**20  # MiB/s


def _free_port():
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def iperf_ours(worker, t, workdir):
    """Our server and our client (each in its own forked child, as a
    scheduled pair runs them) on loopback."""
    port = _free_port()
    srv = subprocess.Popen([worker, "--run", "iperf", "--json", "--spool", workdir, "role=server",
                            f"port={port}", f"time={t}s"], stdout=subprocess.PIPE, text=True)
    try:
        cli, _ = ours(worker, "iperf", {"role": "client", "peers": f"127.0.0.1:{port}",
                                        "streams": 5, "time": f"{t}s"}, "received_Mbps", workdir)
    finally:
        srv.communicate(timeout=t + 30)
    return cli


def iperf_ref(t):
    port = _free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(50):  # the server listens a moment after it starts
            p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-P", "5", "-t", str(t),
                                "-J"], capture_output=True, text=True)
            doc = json.loads(p.stdout or "{}")
            if "error" not in doc or "refused" not in doc.get("error", ""):
                break
            import time
            time.sleep(0.1)
        if "error" in doc:
            sys.exit(f"fidelity: iperf3 failed: {doc['error']}")
        return doc["end"]["sum_received"]["bits_per_second"] / 1e6
    finally:
        srv.wait(timeout=t + 30)


def cases(a, workdir):
    t = a.time
    size = a.file_size
    fio_file = os.path.join(workdir, "fio.dat")
    return {
        "cpu": (
            "events/s",
            lambda: ours(a.worker, "cpu", {"max_prime": 10000, "threads": 1, "time": f"{t}s"},
                         "events_per_sec", workdir)[0],
            lambda: sysbench(["cpu", "--cpu-max-prime=10000", "--threads=1", f"--time={t}"],
                             r"events per second:\s+([0-9.]+)"),
            f"sysbench cpu --cpu-max-prime=10000 --threads=1 --time={t}",
        ),
        "mem": (
            "MiB/s",
            lambda: ours(a.worker, "mem", {"block_size": "4K", "total_size": "100T",
                                           "operation": "write", "access": "seq",
                                           "threads": 1, "time": f"{t}s"},
                         "MiB_per_sec", workdir)[0],
            lambda: sysbench(["memory", "--memory-block-size=4K", "--memory-total-size=100T",
                              "--memory-oper=write", "--memory-access-mode=seq", "--threads=1",
                              f"--time={t}"], r"MiB transferred \(([0-9.]+) MiB/sec\)"),
            f"sysbench memory --memory-block-size=4K --memory-total-size=100T --time={t}",
        ),
        "disk_seq": (
            "MiB/s",
            lambda: ours(a.worker, "disk_seq", {"operation": "read", "block_size": "1M",
                                                "file_size": size, "direct": "true",
                                                "dir": workdir, "time": f"{t}s"},
                         "MiB_per_sec", workdir)[0],
            lambda: fio([f"--name=seq", f"--filename={fio_file}", "--rw=read", "--bs=1M",
                         "--direct=1", "--ioengine=psync", f"--size={size}", "--time_based",
                         f"--runtime={t}"], "read_bw"),
            f"fio --rw=read --bs=1M --direct=1 --ioengine=psync --size={size} --runtime={t}",
        ),
        "disk_rand": (
            "IOPS",
            lambda: ours(a.worker, "disk_rand", {"operation": "read", "block_size": "4K",
                                                 "iodepth": 64, "file_size": size,
                                                 "direct": "true", "dir": workdir,
                                                 "time": f"{t}s"}, "iops", workdir)[0],
            lambda: fio([f"--name=rand", f"--filename={fio_file}", "--rw=randread", "--bs=4k",
                         "--iodepth=64", "--direct=1", "--ioengine=libaio", f"--size={size}",
                         "--time_based", f"--runtime={t}"], "read_iops"),
            f"fio --rw=randread --bs=4k --iodepth=64 --direct=1 --ioengine=libaio --size={size} --runtime={t}",
        ),
        "iperf": (
            "Mbit/s",
            lambda: iperf_ours(a.worker, t, workdir),
            lambda: iperf_ref(t),
            f"iperf3 -s -1 & iperf3 -c 127.0.0.1 -P 5 -t {t}",
        ),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--time", type=int, default=5, help="seconds per run")
    ap.add_argument("--dir", default="/var/tmp", help="where disk test files go (a real disk, not tmpfs)")
    ap.add_argument("--file-size", default="1G")
    ap.add_argument("--only", default="cpu,mem,disk_seq,disk_rand,iperf")
    ap.add_argument("--worker", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin",
                                                      "lockstep-worker"))
    a = ap.parse_args()
    for tool in ("sysbench", "fio", "iperf3"):
        if not shutil.which(tool):
            sys.exit(f"fidelity: '{tool}' is not installed (scripts/deps.sh installs it)")
    if not os.access(a.worker, os.X_OK):
        sys.exit(f"fidelity: {a.worker}: not built (cmake --build build)")
    workdir = tempfile.mkdtemp(prefix="lockstep-fidelity-", dir=a.dir)
    try:
        table = cases(a, workdir)
        rows = []
        for name in a.only.split(","):
            if name not in table:
                sys.exit(f"fidelity: unknown benchmark '{name}' (known: {', '.join(table)})")
            unit, mine, ref, refcmd = table[name]
            xs, ys = [], []
            for i in range(a.pairs):
                xs.append(mine())
                ys.append(ref())
                print(f"  {name} pair {i + 1}: ours {xs[-1]:.1f}  reference {ys[-1]:.1f} {unit}",
                      file=sys.stderr, flush=True)
            ratios = sorted(x / y for x, y in zip(xs, ys))
            rows.append((name, unit, statistics.median(xs), statistics.median(ys),
                         statistics.median(xs) / statistics.median(ys), ratios[0], ratios[-1],
                         refcmd))
        print(f"{'benchmark':<10} {'unit':<9} {'ours (median)':>14} {'reference':>12} "
              f"{'ratio':>7} {'pair ratios min..max':>22}  reference command")
        for name, unit, mx, my, r, lo, hi, refcmd in rows:
            print(f"{name:<10} {unit:<9} {mx:>14.1f} {my:>12.1f} {r:>7.3f} {lo:>10.3f}..{hi:<10.3f}  {refcmd}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
