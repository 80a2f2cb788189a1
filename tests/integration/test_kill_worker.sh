# Scenario 1 of issue 7: SIGKILL one of three local workers in phase 3 of 5.
# It is declared lost within 3 heartbeats (1 s each, checked every 250 ms);
# phases 4 and 5 complete with the others; every other result is stored;
# the run ends partial (exit 3) with the loss recorded (when, which phase).
. "$(dirname "$0")/lib.sh"
DB=$TMP/k.db
"$LOCKSTEP" run "$SRC/tests/integration/data/five.yaml" --local 3 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
in_long() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM phases WHERE name='long'" 2>/dev/null)" = 1 ]; }
wait_for 30 in_long || { cat "$TMP/err"; fail "phase 3 never started"; }
sleep 1
victim=$(pgrep -P $COORD -f -- "--name local-1 ") || fail "local-1 not found"
kill -9 $victim
killed_at=$(date +%s%N)
wait $COORD; rc=$?
cat "$TMP/out"
expect_eq "$rc" 3 "coordinator exit status"
grep -q "^run 1 partial" "$TMP/out" || fail "summary does not say partial"
expect_eq "$(sql "SELECT status FROM runs")" partial "run status"
expect_eq "$(sql "SELECT status || ',' || lost_phase FROM workers WHERE name='local-1'")" "lost,long" "loss record"
lost_ms=$(( ($(sql "SELECT lost_at FROM workers WHERE name='local-1'") - killed_at) / 1000000 ))
echo "local-1 declared lost ${lost_ms} ms after SIGKILL"
# 3 beats of 1 s, seen by a check every 250 ms (and a little scheduling)
[ "$lost_ms" -le 3600 ] || fail "lost after $lost_ms ms: more than 3 heartbeats"
grep -q "worker local-1 lost in phase long" "$TMP/err" || fail "loss not logged"
# the survivors: every repetition of every phase, 4 and 5 included
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok' AND worker != 'local-1')")" 18 "survivors' results"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE status='ok' AND phase >= 3)")" 4 "phases 4-5 complete"
# the victim: phases 1-2 kept, then one 'lost' row, then nothing
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='local-1' AND status='ok')")" 4 "victim's results before"
expect_eq "$(sql "SELECT phase FROM results WHERE worker='local-1' AND status='lost'")" 2 "lost row"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE worker='local-1' AND phase > 2")" 0 "victim after its death"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
pass "killed worker lost within 3 heartbeats, phases 4-5 complete, run partial, other results stored"
