# `lockstep run --local 3`: every (phase, rep, worker) stored, CSV and JSON
# exports match the database, workers ranked by name, skew recorded.
. "$(dirname "$0")/lib.sh"
DB=$TMP/r.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --local 3 --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { cat "$TMP/err"; fail "exit status $rc, expected 0"; }
grep -q "^run 1 complete: 3 workers (0 lost)" "$TMP/out" || fail "summary line missing"
grep -q "results: $DB" "$TMP/out" || fail "database path not printed"

expect_eq "$(sql "SELECT status FROM runs WHERE id=1")" complete "run status"
expect_eq "$(sql "SELECT group_concat(name || ':' || rank || ':' || platform, ' ') FROM (SELECT * FROM workers ORDER BY rank)")" \
  "local-0:0:native local-1:1:native local-2:2:native" "workers"
# every phase x rep x worker, with the headline metric ok
expected=$(sql "SELECT SUM(reps) * 3 FROM phases WHERE run=1")
expect_eq "$expected" 21 "phase reps x workers"
got=$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE run=1 AND status='ok')")
expect_eq "$got" "$expected" "(phase, rep, worker) rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status != 'ok'")" 0 "non-ok rows"
# the benchmarks measured something plausible and checked themselves
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE metric='events_per_sec' AND value > 0")" 6 "cpu rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE metric='forks_per_sec' AND value > 0")" 6 "fork rows"
# round-robin: one worker at a time, so the cpu repetitions do not overlap
overlap=$(sql "SELECT COUNT(*) FROM results a JOIN results b ON a.run=b.run AND a.phase=b.phase
  AND a.metric=b.metric AND a.worker < b.worker
  WHERE a.metric='events_per_sec' AND a.started_at < b.finished_at AND b.started_at < a.finished_at")
expect_eq "$overlap" 0 "overlapping round-robin runs"
# lockstep: skew recorded per repetition, and small on one host
expect_eq "$(sql "SELECT COUNT(*) FROM rep_timing WHERE run=1")" 5 "rep_timing rows (3 null + 2 fork)"
maxskew=$(sql "SELECT MAX(skew_ns) FROM rep_timing")
[ "$maxskew" -lt 50000000 ] || fail "start skew $maxskew ns over 50 ms"
# integrity of the WAL database
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
expect_eq "$(sql "PRAGMA journal_mode")" wal "journal mode"

# CSV export: exact header, one line per results row, values as stored
"$LOCKSTEP" export --db "$DB" --run 1 --format csv >"$TMP/x.csv" || fail "export csv"
expect_eq "$(head -1 "$TMP/x.csv")" "run,phase,bench,rep,worker,platform,metric,unit,value,status" "CSV header"
expect_eq "$(($(wc -l <"$TMP/x.csv") - 1))" "$(sql "SELECT COUNT(*) FROM results")" "CSV rows"
sqlite3 -batch -csv "$DB" "SELECT r.run, p.name, p.bench, r.rep, r.worker, w.platform, r.metric, r.unit,
  r.value, r.status FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
  JOIN workers w ON w.run=r.run AND w.name=r.worker ORDER BY r.run, r.phase, r.rep, w.rank, r.worker, r.metric" >"$TMP/expect.csv"
python3 - "$TMP/x.csv" "$TMP/expect.csv" <<'PY' || fail "CSV differs from the database"
import csv, sys
got = list(csv.reader(open(sys.argv[1])))[1:]
want = list(csv.reader(open(sys.argv[2])))
assert len(got) == len(want), (len(got), len(want))
for g, w in zip(got, want):
    # values compare as doubles: the export prints the shortest exact text
    assert g[:8] + g[9:] == w[:8] + w[9:], (g, w)
    # (the sqlite3 shell prints only 15 digits)
    assert (g[8] == w[8] == "") or abs(float(g[8]) - float(w[8])) <= 1e-13 * abs(float(w[8])), (g, w)
PY
# the default run is the latest, and JSON parses with the same row count
"$LOCKSTEP" export --db "$DB" --format json >"$TMP/x.json" || fail "export json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/x.json") || fail "JSON does not parse"
expect_eq "$n" "$(sql "SELECT COUNT(*) FROM results")" "JSON rows"
# nothing left behind
for pid in $(sql "SELECT pid FROM workers"); do
  kill -0 "$pid" 2>/dev/null && fail "local worker pid $pid outlived the run"
done
pass "local run stored and exported every result"
