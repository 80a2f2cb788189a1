# A worker judges its coordinator's silence by the coordinator's own
# liveness settings, which WELCOME carries (issue 17), not by a fixed 5
# beats: with `heartbeat: 200ms` and `missed_beats: 20` the coordinator
# gives a silent worker 4 s, and its worker gives the coordinator
# (20 + 2) beats, 4.4 s — where 5 beats would have been 1 s.  The
# coordinator is stopped for 2.5 s in the middle of the run: its worker
# waits without registering again, and the run completes.
. "$(dirname "$0")/lib.sh"
PORT=$(free_port)
DB=$TMP/p.db
sed 's/^grace: 5s$/grace: 5s\nheartbeat: 200ms\nmissed_beats: 20/' \
  "$SRC/tests/integration/data/long.yaml" > "$TMP/patient.yaml"
grep -q "^missed_beats: 20" "$TMP/patient.yaml" || fail "could not write the patient variant"
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w1 --spool "$TMP/s1" --verbose 2>"$TMP/w1" &
W1=$!; PIDS+=($W1)
"$LOCKSTEP" run "$TMP/patient.yaml" --bind "tcp://127.0.0.1:$PORT" --expect w1 --db "$DB" \
  >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
have_results() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM results" 2>/dev/null)" -ge 1 ] 2>/dev/null; }
wait_for 20 have_results || { cat "$TMP/err" "$TMP/w1"; fail "no result before the stop"; }
kill -STOP $COORD
sleep 2.5
kill -CONT $COORD
wait $COORD; rc=$?
[ $rc -eq 0 ] || { cat "$TMP/err" "$TMP/w1"; fail "coordinator exit $rc"; }
grep -q "the coordinator gives up after 20 silent beats, this worker after 4.4 s" "$TMP/w1" ||
  { cat "$TMP/w1"; fail "the worker did not take the liveness settings from WELCOME"; }
if grep -q "coordinator silent for" "$TMP/w1"; then
  cat "$TMP/w1"; fail "the worker gave up on a coordinator that was within its patience"
fi
expect_eq "$(sql "SELECT status FROM runs")" complete "run status"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE status='ok')")" 10 "results"
wait_for 5 bash -c "! kill -0 $W1 2>/dev/null" || fail "worker did not quit after the run"
pass "the worker's silence limit follows the coordinator's heartbeat and missed_beats"
