# Ctrl-C on the coordinator mid-run: exit 1, the run recorded as failed,
# healthy workers not blamed (no loss recorded), local workers gone, what was
# committed before the interrupt kept.
. "$(dirname "$0")/lib.sh"
DB=$TMP/i.db
"$LOCKSTEP" run "$SRC/tests/integration/data/long.yaml" --local 2 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
have_results() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM results" 2>/dev/null)" -ge 2 ] 2>/dev/null; }
wait_for 30 have_results || fail "no results appeared"
kill -INT $COORD
wait $COORD; rc=$?
expect_eq "$rc" 1 "exit status"
grep -q "lockstep run: interrupted" "$TMP/err" || fail "interrupt not reported"
expect_eq "$(sql "SELECT status FROM runs")" failed "run status"
expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE status='lost'")" 0 "workers blamed"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status != 'ok'")" 0 "lost or failed rows"
[ "$(sql "SELECT COUNT(*) FROM results")" -ge 2 ] || fail "committed results lost"
for pid in $(sql "SELECT pid FROM workers"); do
  wait_for 5 bash -c "! kill -0 $pid 2>/dev/null" || fail "worker $pid outlived the interrupted run"
done
pass "interrupt ends the run without blaming workers"
