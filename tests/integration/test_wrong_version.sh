# A worker speaking another protocol version gets REJECT with the reason and
# exits 2; the run completes with the others.
. "$(dirname "$0")/lib.sh"
DB=$TMP/v.db
PORT=$(free_port)
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --local 2 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
timeout 20 "$WORKER" --connect "tcp://127.0.0.1:$PORT" --name intruder --proto-version 99 \
  --spool "$TMP/si" 2>"$TMP/wi"
wrc=$?
expect_eq "$wrc" 2 "rejected worker's exit status"
grep -q "rejected by the coordinator: protocol version 99 not supported (coordinator speaks 1)" "$TMP/wi" \
  || { cat "$TMP/wi"; fail "worker did not report the reason"; }
wait $COORD; rc=$?
[ $rc -eq 0 ] || { cat "$TMP/err"; fail "coordinator exit $rc"; }
grep -q "rejected intruder: protocol version 99" "$TMP/err" || fail "coordinator did not log the rejection"
expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE name='intruder'")" 0 "intruder stored"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 14 "results"
pass "wrong protocol version rejected, run complete"
