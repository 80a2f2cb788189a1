#!/usr/bin/env python3
"""layout-check.py — the house rules of issue 17 that a machine can check.

  - the model (coordinator/model/) includes nothing from the launchers, the
    run, the store, the reports or the CLI; the store and the reports include
    nothing from the CLI; the CLI is included by nobody;
  - SQL stays in the store: only coordinator/store/ (and the CLI's version
    line) include <sqlite3.h>;
  - no function outside tests is longer than --max-lines (default 100);
  - with --bin DIR: `lockstep` links neither libiperf nor liburing (the
    coordinator reads the benchmarks' descriptors, it does not run them).

Prints each breach as FILE:LINE: what, and exits 1 if there is any.
Usage: layout-check.py SOURCE_DIR [--bin BUILD_BIN_DIR] [--max-lines N]
"""
import os
import re
import subprocess
import sys

# folder of coordinator/ -> folders it must not include from
FORBIDDEN = {
    "model": {"run", "platform", "store", "report", "cli"},
    "store": {"run", "platform", "report", "cli"},
    "report": {"run", "platform", "cli"},
    "platform": {"run", "store", "report", "cli"},
    "run": {"report", "cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^>"]+)[>"]')


def sources(root, top):
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def coord_folder(root, path):
    rel = os.path.relpath(path, os.path.join(root, "coordinator"))
    return rel.split(os.sep)[0] if os.sep in rel else None


def check_includes(root, breaches):
    # header name -> folder, for includes written without their folder
    where = {}
    for p in sources(root, "coordinator"):
        if p.endswith(".h"):
            where[os.path.basename(p)] = coord_folder(root, p)
    for p in sources(root, "coordinator"):
        mine = coord_folder(root, p)
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            theirs = inc.split("/")[0] if "/" in inc else where.get(inc, mine)
            if theirs in FORBIDDEN.get(mine, ()) or (theirs == "cli" and mine != "cli"):
                breaches.append(f"{p}:{n}: {mine}/ includes {inc} ({theirs}/)")
            if inc == "sqlite3.h" and mine != "store" and not p.endswith("cli/main.c"):
                breaches.append(f"{p}:{n}: SQL outside coordinator/store/")


def functions(path):
    """(name, first line, length) of each function defined at column 0 with
    its body's braces at column 0, the layout every C file here keeps."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            j = i - 1
            while j > 0 and "(" not in lines[j]:
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            yield (m.group(1) if m else "?", j + 1, k - j + 1)
            i = k
        i += 1


def check_lengths(root, max_lines, breaches):
    for top in ("common", "bench", "worker", "coordinator"):
        for p in sources(root, top):
            if p.endswith(".c"):
                for name, line, n in functions(p):
                    if n > max_lines:
                        breaches.append(f"{p}:{line}: {name} is {n} lines (at most {max_lines})")


def check_links(bindir, breaches):
    exe = os.path.join(bindir, "lockstep")
    out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    for lib in ("libiperf", "liburing"):
        if lib in out:
            breaches.append(f"{exe}: links {lib} (the coordinator does not run benchmarks)")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root, bindir, max_lines = argv[1], None, 100
    args = argv[2:]
    while args:
        if args[0] == "--bin" and len(args) > 1:
            bindir, args = args[1], args[2:]
        elif args[0] == "--max-lines" and len(args) > 1:
            max_lines, args = int(args[1]), args[2:]
        else:
            print(f"layout-check: unknown argument '{args[0]}'", file=sys.stderr)
            return 2
    breaches = []
    check_includes(root, breaches)
    check_lengths(root, max_lines, breaches)
    if bindir:
        check_links(bindir, breaches)
    for b in breaches:
        print(b)
    print(f"layout-check: {len(breaches)} breach(es)")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
