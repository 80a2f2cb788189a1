# Synchronized starts: 8 local workers run null in lockstep; every recorded
# start (coordinator clock) falls near the GO instant, the skew and its error
# bound are stored per repetition, clock offsets per worker, and a phase
# whose skew exceeds its skew_tolerance is flagged in the database and the
# summary.  Bounds are generous: the test machine is shared and loaded.
. "$(dirname "$0")/lib.sh"
DB=$TMP/s.db
cat >"$TMP/skew.yaml" <<'YAML'
name: skew
repetitions: 4
skew_tolerance: 5s
phases:
  - name: loose
    bench: null
  - name: strict
    bench: null
    skew_tolerance: 1us
YAML
"$LOCKSTEP" run "$TMP/skew.yaml" --local 8 --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { cat "$TMP/err"; fail "exit status $rc, expected 0"; }

expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status='ok'")" 64 "ok results (2 phases x 4 reps x 8)"
# every start recorded, in coordinator time, after the GO instant and within 50 ms of it
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE started_at > 0 AND finished_at >= started_at
  AND scheduled_at > 0")" 64 "start/finish/scheduled times"
late=$(sql "SELECT MAX(ABS(started_at - scheduled_at)) FROM results")
[ "$late" -lt 50000000 ] || fail "a start $late ns away from its GO instant"
# skew = max - min start, per repetition, with an error bound
expect_eq "$(sql "SELECT COUNT(*) FROM rep_timing WHERE skew_ns >= 0 AND skew_err_ns > 0")" 8 "rep_timing rows"
bad=$(sql "SELECT COUNT(*) FROM rep_timing t WHERE skew_ns != (SELECT MAX(started_at) - MIN(started_at)
  FROM results r WHERE r.run=t.run AND r.phase=t.phase AND r.rep=t.rep)")
expect_eq "$bad" 0 "skew is max - min of the recorded starts"
maxskew=$(sql "SELECT MAX(skew_ns) FROM rep_timing")
[ "$maxskew" -lt 50000000 ] || fail "start skew $maxskew ns over 50 ms"
# what the coordinator spent, per repetition
expect_eq "$(sql "SELECT COUNT(*) FROM rep_timing WHERE barrier_ns > 0 AND collect_ns > 0 AND coord_cpu_ns > 0")" 8 "cost columns"
# tolerance: the loose phase passes, the strict one is flagged
expect_eq "$(sql "SELECT group_concat(DISTINCT over_tolerance) FROM rep_timing WHERE phase=0")" 0 "loose phase flag"
expect_eq "$(sql "SELECT group_concat(DISTINCT over_tolerance) FROM rep_timing WHERE phase=1")" 1 "strict phase flag"
expect_eq "$(sql "SELECT DISTINCT skew_tolerance_ns FROM rep_timing WHERE phase=1")" 1000 "tolerance stored"
grep -q "^  loose .* ok (5000000 us)" "$TMP/out" || fail "summary: loose phase not ok"
grep -q "^  strict .* EXCEEDED 4/4" "$TMP/out" || fail "summary: strict phase not flagged"
grep -q "exceeds the tolerance" "$TMP/err" || fail "no warning in the log"
# the warning names the late worker and by how much, as the database has it
line=$(grep -m1 "strict rep 1: start skew .* exceeds the tolerance" "$TMP/err")
late=$(sql "SELECT worker FROM results WHERE phase=1 AND rep=1 AND metric='ok' ORDER BY started_at DESC LIMIT 1")
echo "$line" | grep -qE ": $late started last, [0-9.]+ us after [a-z0-9-]+ and -?[0-9.]+ us after the start instant" ||
  fail "the late start does not name $late: $line"
# every worker's clock offset: latest in workers, history in clock_offsets
expect_eq "$(sql "SELECT COUNT(DISTINCT worker) FROM clock_offsets WHERE n >= 1 AND err_ns > 0")" 8 "clock history"
expect_eq "$(sql "SELECT COUNT(*) FROM workers w WHERE clock_err_ns = (SELECT err_ns FROM clock_offsets c
  WHERE c.run=w.run AND c.worker=w.name ORDER BY n DESC LIMIT 1)")" 8 "latest offset in workers"
# one host: the offsets found are within their own error bound of zero
expect_eq "$(sql "SELECT COUNT(*) FROM clock_offsets WHERE ABS(offset_ns) > err_ns")" 0 "offsets within bound of 0"
pass "8 workers' starts within bounds, skew stored and flagged"
