# A worker started before its coordinator keeps trying (with backoff) and is
# admitted when the coordinator comes up; when its coordinator dies mid-run,
# it notices the silence, registers again, and serves the next coordinator.
. "$(dirname "$0")/lib.sh"
PORT=$(free_port)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w1 --spool "$TMP/s1" 2>"$TMP/w1" &
W1=$!; PIDS+=($W1)
sleep 2
kill -0 $W1 2>/dev/null || fail "worker gave up while no coordinator was there"

# coordinator A comes up late, then dies in the middle of its run
DB=$TMP/a.db
"$LOCKSTEP" run "$SRC/tests/integration/data/long.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --expect w1 --db "$DB" >"$TMP/outa" 2>"$TMP/erra" &
A=$!; PIDS+=($A)
have_results() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM results" 2>/dev/null)" -ge 2 ] 2>/dev/null; }
wait_for 20 have_results || { cat "$TMP/erra" "$TMP/w1"; fail "late coordinator got no results"; }
kill -9 $A; wait $A 2>/dev/null

# coordinator B on the same port, another database
DB=$TMP/b.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --expect w1 --timeout 30 --db "$DB" >"$TMP/outb" 2>"$TMP/errb"
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/errb" "$TMP/w1"; fail "coordinator B exit $rc"; }
grep -q "registering again" "$TMP/w1" || fail "worker did not notice its coordinator was gone"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='w1' AND status='ok')")" 7 "run B results"
# run A's unacknowledged result, if any, stayed in the spool and was not sent to B
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE metric='events_per_sec' AND phase=0 AND rep > 2")" 0 "foreign results"
wait_for 5 bash -c "! kill -0 $W1 2>/dev/null" || fail "worker did not quit after run B"
wait $W1; expect_eq "$?" 0 "worker exit status"
pass "worker waited for, lost and found its coordinator"
