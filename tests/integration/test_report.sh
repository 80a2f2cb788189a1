# lockstep report on a fixture database (data/report-fixture.sh: a real run
# of the course's phases by 4 local workers, labelled native, docker, kvm,
# qemu): the statistics agree with the stored values, every file is written,
# the wide CSV matches the database row by row, the gnuplot SVGs are XML with
# one box per platform, the HTML fetches nothing, expectations get their
# verdicts, and a malformed expectation is a validate error at its column.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
DB=$TMP/fx.db
bash "$SRC/tests/integration/data/report-fixture.sh" "$BIN" "$SRC" "$DB" >"$TMP/fx.out" 2>&1 ||
  { tail -20 "$TMP/fx.out"; fail "fixture run"; }
OUT=$TMP/report
"$LOCKSTEP" report --db "$DB" --out "$OUT" >"$TMP/o" 2>"$TMP/e" || { cat "$TMP/e"; fail "report exit $?"; }
grep -q "gnuplot not found" "$TMP/e" && skip "gnuplot not installed (scripts/deps.sh)"

# every file
for f in report.html report.md results.csv results-wide.csv plots.gp; do
  [ -s "$OUT/$f" ] || fail "$f not written"
done
for ph in cpu mem diskRand diskSeq fork; do
  for ext in svg png; do [ -s "$OUT/plot-$ph.$ext" ] || fail "plot-$ph.$ext not written"; done
  [ "$(head -c 8 "$OUT/plot-$ph.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "plot-$ph.png is not a PNG"
  grep -q "(plot-$ph.svg)" "$OUT/report.md" || fail "report.md does not show plot-$ph.svg"
done

# the table against the database: n, mean, median, min, max of each phase
# and platform recomputed here (Python's statistics module)
python3 - "$DB" "$TMP/o" <<'PY' || fail "statistics on stdout disagree with the database"
import re, sqlite3, statistics, sys
db = sqlite3.connect(sys.argv[1])
out = open(sys.argv[2]).read().split("\n")
phase, seen = None, 0
for line in out:
    if line and not line.startswith(" ") and ":" in line:
        phase = line.split(":")[0]
        continue
    f = line.split()
    if not re.match(r"  (native|docker|kvm|qemu) +[0-9]+ ", line):
        continue
    vals = [r[0] for r in db.execute(
        "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase"
        " JOIN workers w ON w.run=r.run AND w.name=r.worker"
        " WHERE p.name=? AND w.platform=? AND r.status='ok' AND r.metric = CASE p.bench"
        " WHEN 'cpu' THEN 'events_per_sec' WHEN 'mem' THEN 'MiB_per_sec' WHEN 'disk_rand'"
        " THEN 'iops' WHEN 'disk_seq' THEN 'MiB_per_sec' ELSE 'forks_per_sec' END",
        (phase, f[0]))]
    want = [len(vals), statistics.mean(vals), statistics.stdev(vals), statistics.median(vals),
            min(vals), max(vals)]
    got = [float(x) for x in f[1:7]]
    for g, w, what in zip(got, want, ["n", "mean", "stddev", "median", "min", "max"]):
        if abs(g - w) > 1e-3 * abs(w) + 1e-9:
            sys.exit(f"{phase} {f[0]} {what}: printed {g}, database says {w}")
    seen += 1
if seen != 20:
    sys.exit(f"{seen} platform rows, expected 20 (5 phases x 4 platforms)")
PY
# platform order as in the course: Native, Docker, KVM, QEMU
expect_eq "$(sed -n '/^cpu:/,/^$/p' "$TMP/o" | awk 'NR > 2 && NF {print $1}' | tr '\n' ' ')" \
  "native docker kvm qemu " "platform order"
# qemu's cpu figures are a tenth of a native worker's: the ratio of medians
# is about 0.1, give or take the noise between two workers on a busy host
ratio=$(sed -n '/^cpu:/,/^$/p' "$TMP/o" | awk '$1 == "qemu" {print $NF}')
python3 -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 0.35 else 1)" "$ratio" ||
  fail "qemu's cpu ratio to native is $ratio, not about 0.1"
grep -q "without a value: qemu: 1 lost" "$TMP/o" || fail "the lost repetition is not shown"
grep -q "local-3 (qemu) in phase fork" "$TMP/o" || fail "the lost worker is not shown"
grep -qE "^  cpu +lockstep +3 +[0-9.]+ +[0-9.]+ +[0-9.]+$" "$TMP/o" || fail "start skew of cpu"

# expectations from the experiment stored with the run, and one given here
grep -A1 "^  confirmed  cpu: qemu < 0.5 × native" "$TMP/o" | grep -qE "qemu [0-9.]+ < 0.5 × native [0-9.]+ = [0-9.]+; qemu/native = 0\.[0-9]+" ||
  fail "'cpu: qemu < 0.5 * native' not confirmed with its numbers"
grep -q "^  refuted    cpu: qemu ≥ native" "$TMP/o" || fail "'cpu: qemu >= native' not refuted"
grep -q "^  no data    diskRand: vm ≈ native ± 10%" "$TMP/o" || fail "no data for vm"
"$LOCKSTEP" report --db "$DB" --expectation "fork: kvm ~= native +- 50%" >"$TMP/o2" ||
  fail "report --expectation"
grep -q "^  confirmed  fork: kvm ≈ native ± 50%" "$TMP/o2" || fail "--expectation not evaluated"

# --baseline: docker's ratio becomes 1
"$LOCKSTEP" report --db "$DB" --baseline docker >"$TMP/o3" || fail "report --baseline"
grep -qE "^  docker +3 .* 1\.000$" "$TMP/o3" || fail "--baseline docker"

# long CSV: what `lockstep export` writes
"$LOCKSTEP" export --db "$DB" >"$TMP/long.csv" || fail "export"
cmp -s "$TMP/long.csv" "$OUT/results.csv" || fail "results.csv differs from lockstep export"

# wide CSV: the course's header; one row per worker and repetition; each cell
# the stored headline value of that column's phase
expect_eq "$(head -1 "$OUT/results-wide.csv")" "platform,time,cpu,mem,diskRand,diskSeq,fork,uplink" \
  "wide header"
"$LOCKSTEP" export --db "$DB" --format wide >"$TMP/wide.csv" || fail "export --format wide"
cmp -s "$TMP/wide.csv" "$OUT/results-wide.csv" || fail "results-wide.csv differs from export"
python3 - "$DB" "$OUT/results-wide.csv" <<'PY' || fail "wide CSV disagrees with the database"
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
want = [(p, w, r) for p, w in (("native", "local-0"), ("docker", "local-1"), ("kvm", "local-2"),
                                ("qemu", "local-3")) for r in (1, 2, 3)]
if len(rows) != len(want):
    sys.exit(f"{len(rows)} rows, expected {len(want)}")
metric = {"cpu": "events_per_sec", "mem": "MiB_per_sec", "diskRand": "iops",
          "diskSeq": "MiB_per_sec", "fork": "forks_per_sec"}
for row, (plat, worker, rep) in zip(rows, want):
    if row["platform"] != plat:
        sys.exit(f"row {row}: platform, expected {plat}")
    if not row["time"].endswith("Z") or row["uplink"] != "":
        sys.exit(f"row {row}: time or uplink")
    for col, m in metric.items():
        v = db.execute("SELECT r.value FROM results r JOIN phases p ON p.run=r.run AND"
                       " p.idx=r.phase WHERE p.name=? AND r.worker=? AND r.rep=? AND r.metric=?",
                       (col, worker, rep, m)).fetchone()[0]
        cell = row[col]
        if v is None:
            if cell != "":
                sys.exit(f"{worker} rep {rep} {col}: '{cell}' for a lost value")
        elif float(cell) != v:
            sys.exit(f"{worker} rep {rep} {col}: {cell} != {v}")
PY

# gnuplot's SVGs: XML, one plot (box) per platform, titled by the platform
python3 - "$OUT" <<'PY' || fail "SVG plots"
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
for ph in ("cpu", "mem", "diskRand", "diskSeq", "fork"):
    root = ET.parse(f"{sys.argv[1]}/plot-{ph}.svg").getroot()
    plots = [g for g in root.iter(ns + "g") if g.get("id", "").startswith("gnuplot_plot_")]
    titles = [g.find(ns + "title").text for g in plots]
    if titles != ["native", "docker", "kvm", "qemu"]:
        sys.exit(f"plot-{ph}.svg: plots {titles}")
PY

# the HTML: self-contained (nothing to fetch), a box per platform per phase,
# every verdict; the inline SVGs are XML too
python3 - "$OUT/report.html" <<'PY' || fail "report.html"
import re, sys, xml.etree.ElementTree as ET
html = open(sys.argv[1], encoding="utf-8").read()
if re.search(r"""(src|href)\s*=|@import|url\(|<link|<script""", html):
    sys.exit("report.html refers to something outside itself")
svgs = re.findall(r"<svg .*?</svg>", html, re.S)
if len(svgs) != 5:
    sys.exit(f"{len(svgs)} inline SVG plots, expected 5")
for s in svgs:
    root = ET.fromstring(s)
    boxes = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "box"]
    if len(boxes) != 4:
        sys.exit(f"{len(boxes)} boxes in a plot, expected 4")
for v in ('class="l confirmed">confirmed', 'class="l refuted">refuted', 'class="l nodata">no data'):
    if v not in html:
        sys.exit(f"missing verdict {v}")
PY

# without gnuplot: the rest is written, and the Markdown shows no plots
PATH=/nonexistent "$LOCKSTEP" report --db "$DB" --out "$TMP/nogp2" >/dev/null 2>"$TMP/e5" ||
  fail "report with no gnuplot on PATH: exit $?"
grep -q "gnuplot not found" "$TMP/e5" || fail "no word about the missing gnuplot"
[ -s "$TMP/nogp2/report.html" ] && [ -s "$TMP/nogp2/plots.gp" ] && ! ls "$TMP/nogp2"/plot-*.svg 2>/dev/null ||
  fail "files without gnuplot"
grep -q "plot-" "$TMP/nogp2/report.md" && fail "report.md links plots that were not drawn"

# mistakes
expect() { # status message -- command...
  local want=$1 msg=$2; shift 3
  "$@" >"$TMP/o" 2>"$TMP/e"
  local rc=$?
  [ $rc -eq "$want" ] || fail "'$*': exit $rc, expected $want"
  [ -z "$msg" ] || grep -qF -- "$msg" "$TMP/e" || { cat "$TMP/e"; fail "'$*': no '$msg'"; }
}
expect 2 "no run 99" -- "$LOCKSTEP" report --db "$DB" --run 99
expect 2 "no such database" -- "$LOCKSTEP" report --db "$TMP/none.db"
expect 2 "--run 'x'" -- "$LOCKSTEP" report --db "$DB" --run x
sed 's/  - cpu: qemu >= native/  - cpu: qemu =< native/' "$SRC/tests/integration/data/report.yaml" \
  >"$TMP/bad.yaml"
expect 2 "bad.yaml:35:15: expectation: expected a comparison (<, <=, >, >=, ≈ or ~=), found '=<'" -- \
  "$LOCKSTEP" validate "$TMP/bad.yaml"
pass "report: 5 phases x 4 platforms, statistics, verdicts, wide CSV, SVG plots, HTML"
