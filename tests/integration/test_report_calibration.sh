# lockstep report's calibration section: a phase whose reference_for names a
# built-in phase (sysbench-cpu checks cpu) is paired with it per platform by
# worker and repetition; the report gives both medians, the geometric mean
# of the pair ratios with a 95 % t-interval on their logarithms (min–max
# below three pairs), n, and flags every pair outside 0.95..1.05 as OFF
# (text, Markdown, HTML); units that differ are said, not divided.
# Fixture: data/report-platforms.sh (SQL): docker's third pair is 0.9.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
DB=$TMP/p.db
bash "$SRC/tests/integration/data/report-platforms.sh" "$BIN" "$DB" >"$TMP/fx.out" 2>&1 ||
  { cat "$TMP/fx.out"; fail "fixture"; }
"$LOCKSTEP" report --db "$DB" --run 1 --out "$TMP/r" >"$TMP/o" 2>"$TMP/e" ||
  { cat "$TMP/e"; fail "report exit $?"; }
sed -n '/^calibration (/,/^$/p' "$TMP/o" >"$TMP/cal"
[ -s "$TMP/cal" ] || fail "no calibration section"

# ratios and intervals recomputed from the database
python3 - "$DB" "$TMP/cal" <<'PY' || fail "calibration numbers"
import math, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
lines = open(sys.argv[2]).read().split("\n")
t975 = {2: 4.302653}
for plat in ("native", "docker", "qemu-tcg"):
    pairs = db.execute("SELECT b.value / x.value FROM results b JOIN results x ON x.run = b.run"
                       " AND x.worker = b.worker AND x.rep = b.rep WHERE b.run = 1 AND b.phase = 0"
                       " AND x.phase = 1 AND x.metric = 'events_per_second' AND b.worker = ?"
                       " ORDER BY b.rep", (plat,)).fetchall()
    logs = [math.log(r) for (r,) in pairs]
    n, m = len(logs), sum(logs) / len(logs)
    sd = math.sqrt(sum((l - m) ** 2 for l in logs) / (n - 1))
    half = t975[n - 1] * sd / math.sqrt(n)
    want = [f"{math.exp(m):.3f}", f"{math.exp(m - half):.3f}-{math.exp(m + half):.3f}"]
    row = [l for l in lines if l.startswith(f"  {plat} ") and " cpu " in l]
    if len(row) != 1:
        sys.exit(f"{plat}: {len(row)} calibration rows")
    f = row[0].split()
    if f[1:3] != ["cpu", "sysbench-cpu"] or f[5:8] != [want[0], want[1], "(95%"] or f[9] != "3":
        sys.exit(f"{plat}: {row[0]!r}, expected ratio {want[0]} spread {want[1]} n 3")
    off = sum(1 for (r,) in pairs if abs(r - 1) > 0.05)
    check = " ".join(f[10:])
    if check != (f"OFF {off} of 3" if off else "ok"):
        sys.exit(f"{plat}: check '{check}', {off} pairs off")
PY
grep -qE "^  native +cpu +sysbench-cpu +1000 +1000 +1\.000 " "$TMP/cal" || fail "native's medians"
grep -q "^    OFF docker rep 3 (worker docker): cpu/sysbench-cpu = 0.900$" "$TMP/cal" ||
  fail "docker's third pair not flagged OFF"
expect_eq "$(grep -c '^    OFF ' "$TMP/cal")" 1 "pairs flagged OFF"
# the reference's metric is its own, not exec's wall time; different units are not divided
grep -qE "^  native +mem +sysbench-mem +9100 +2310000 +- +units differ: MiB/s vs ops/s +3  not divided$" \
  "$TMP/cal" || fail "units that differ"
grep -q '| docker | cpu | sysbench-cpu | 990 | 1000 | 0.959 | .* | 3 | \*\*OFF 1 of 3\*\* |' \
  "$TMP/r/report.md" || fail "report.md: OFF"
grep -q '^- \*\*OFF\*\* docker rep 3 (worker docker): cpu/sysbench-cpu = 0.900$' "$TMP/r/report.md" ||
  fail "report.md: the OFF pair"
grep -q '<tr class="off"><td class="l">docker</td>.*<td class="l refuted">OFF 1 of 3</td></tr>' \
  "$TMP/r/report.html" || fail "report.html: OFF row"
grep -q '<td class="l refuted" colspan="9">OFF docker rep 3 (worker docker)' "$TMP/r/report.html" ||
  fail "report.html: the OFF pair"

# below three pairs: min–max; a pair above 1.05 is OFF too
cp "$DB" "$TMP/two.db"
sqlite3 -batch "$TMP/two.db" "DELETE FROM results WHERE run = 1 AND phase = 1 AND rep = 3;
  UPDATE results SET value = 1060 WHERE run = 1 AND phase = 0 AND worker = 'native' AND rep = 2"
"$LOCKSTEP" report --db "$TMP/two.db" --run 1 >"$TMP/o2" || fail "report (two pairs)"
grep -qE "^  docker +cpu +sysbench-cpu +990 +1000 +0\.990 0\.980-1\.000 \(min-max\) +2  ok$" "$TMP/o2" ||
  fail "two pairs: min-max"
grep -q "^    OFF native rep 2 (worker native): cpu/sysbench-cpu = 1.060$" "$TMP/o2" ||
  fail "a pair above 1.05 not OFF"

# without reference_for: no calibration section
sqlite3 -batch "$TMP/two.db" "UPDATE phases SET reference_for = NULL"
"$LOCKSTEP" report --db "$TMP/two.db" --run 1 >"$TMP/o3" || fail "report (no calibration)"
grep -q "^calibration" "$TMP/o3" && fail "a calibration section without reference phases"
pass "report: calibration ratios, t-interval and min-max spread, OFF pairs, units"
