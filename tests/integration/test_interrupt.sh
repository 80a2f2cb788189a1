# Ctrl-C on the coordinator mid-run: exit 1, the run recorded as failed,
# healthy workers not blamed (no loss recorded), local workers gone, what was
# committed before the interrupt kept.  The same command starts a new run
# (an interrupt is a decision, not a crash); `--resume 1` (no FILE) finishes
# the interrupted one without repeating what it stored.
. "$(dirname "$0")/lib.sh"
DB=$TMP/i.db
start_long_run --local 2
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
grep -q "lockstep run --resume 1 --db $DB' finishes the run later" "$TMP/err" || fail "no hint how to finish it"
sql "SELECT phase, rep, worker, started_at FROM results WHERE metric IN ('events_per_sec', 'ok') ORDER BY 1,2,3" | sort > "$TMP/before"
"$LOCKSTEP" run --resume 1 --local 2 --db "$DB" >"$TMP/out2" 2>"$TMP/err2"
rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/err2"; fail "--resume 1: exit $rc"; }
expect_eq "$(sql "SELECT COUNT(*) || ',' || status || ',' || resumes FROM runs")" "1,complete,1" "runs after --resume"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 20 "every repetition once"
sql "SELECT phase, rep, worker, started_at FROM results WHERE metric IN ('events_per_sec', 'ok') ORDER BY 1,2,3" | sort > "$TMP/after"
expect_eq "$(comm -23 "$TMP/before" "$TMP/after" | wc -l)" 0 "stored rows changed by the resume"
"$LOCKSTEP" run --resume 1 --db "$DB" >/dev/null 2>"$TMP/err3"
expect_eq "$?" 2 "--resume of a complete run"
grep -q "the run is complete; nothing to resume" "$TMP/err3" || fail "no reason given: $(cat "$TMP/err3")"
pass "interrupt ends the run without blaming workers; --resume finishes it"
