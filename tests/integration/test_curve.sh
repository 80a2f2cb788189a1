# CURVE admission: with --keys, only workers whose keys lockstep keygen made
# (and that are in DIR/allowed) get in.  A worker with a key of another
# deployment and one with no security at all are refused in the handshake,
# before any application message is read — the unknown key is logged with
# the peer's address — and the run with the legitimate worker is unaffected.
# Without --keys, a non-loopback bind is refused unless --insecure.
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
"$LOCKSTEP" keygen "$K" --workers w1,w2 >"$TMP/kg" || fail "keygen"
[ -f "$K/allowed/w1.cert" ] && [ -f "$K/workers/w1.cert_secret" ] && [ -f "$K/coordinator.cert" ] ||
  fail "keygen layout"
expect_eq "$(stat -c %a "$K/workers/w1.cert_secret")" 600 "secret file mode"
# another deployment's keys: not allowed here
"$LOCKSTEP" keygen "$TMP/other" --workers intruder >/dev/null || fail "keygen other"
# an existing worker key is never overwritten
"$LOCKSTEP" keygen "$K" --workers w1 >/dev/null 2>"$TMP/kg2" && fail "keygen overwrote w1"
grep -q "exists" "$TMP/kg2" || fail "keygen overwrite message"
# a lost coordinator key is made again on its own, the workers' kept
w1pub=$(cat "$K/allowed/w1.cert")
mv "$K/coordinator.cert_secret" "$TMP/lost_secret"
"$LOCKSTEP" keygen "$K" >/dev/null || fail "keygen of the coordinator key alone"
[ -f "$K/coordinator.cert_secret" ] || fail "coordinator key not made again"
expect_eq "$(cat "$K/allowed/w1.cert")" "$w1pub" "w1's allowed key after remaking the coordinator's"

PORT=$(free_port)
DB=$TMP/c.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --keys "$K" --expect w1 --timeout 20 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
C=$!; PIDS+=($C)
sleep 0.5
# the intruders first, then the legitimate worker
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name intruder --spool "$TMP/si" \
  --cert "$TMP/other/workers/intruder.cert_secret" --server-cert "$K/coordinator.cert" 2>"$TMP/wi" &
PIDS+=($!)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name plain --spool "$TMP/sp" 2>"$TMP/wp" &
PIDS+=($!)
# both knocked and were turned away before the legitimate worker comes (on a
# loaded machine the run could otherwise end before they even try)
wait_for 20 grep -q "refused a worker at 127.0.0.1: its CURVE key" "$TMP/err" ||
  { cat "$TMP/err"; fail "the unknown key was not refused within 20 s"; }
wait_for 20 grep -q "refused a connection from 127.0.0.1: it did not complete the CURVE handshake" "$TMP/err" ||
  { cat "$TMP/err"; fail "the worker without security was not refused within 20 s"; }
# and each of them says why it is not admitted, and again how long it waits
wait_for 10 grep -q "still not admitted by tcp://127.0.0.1:$PORT after [0-9]* s: the coordinator refused this worker's CURVE key" "$TMP/wi" ||
  { cat "$TMP/wi"; fail "the worker with an unknown key does not say it was refused"; }
grep -q "not admitted: the coordinator refused this worker's CURVE key .*allowed/" "$TMP/wi" ||
  { cat "$TMP/wi"; fail "the refusal is not said at once"; }
wait_for 10 grep -q "still not admitted by tcp://127.0.0.1:$PORT after [0-9]* s: the coordinator wants CURVE" "$TMP/wp" ||
  { cat "$TMP/wp"; fail "the worker without a key does not say the coordinator wants CURVE"; }
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w1 --spool "$TMP/s1" \
  --cert "$K/workers/w1.cert_secret" --server-cert "$K/coordinator.cert" 2>"$TMP/w1" &
W1=$!; PIDS+=($W1)
wait $C; rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "run with the legitimate worker: exit $rc"; }
expect_eq "$(sql "SELECT group_concat(name) FROM workers")" w1 "admitted workers"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE status='ok')")" 7 "results"
grep -q "refused a worker at 127.0.0.1: its CURVE key .* is not in $K/allowed" "$TMP/err" ||
  { cat "$TMP/err"; fail "the unknown key's refusal is not logged with the address"; }
grep -q "refused a connection from 127.0.0.1: it did not complete the CURVE handshake" "$TMP/err" ||
  fail "the plain worker's refusal is not logged with the address"
grep -qE "intruder|plain" <(sql "SELECT name FROM workers") && fail "an intruder was admitted"
# no application message was read from either: nothing of theirs anywhere
grep -q "admitted intruder\|admitted plain" "$TMP/err" && fail "an intruder's HELLO was read"

# a key is an identity: w1's key under the name w2 (an impersonation, and
# two workers sharing one certificate) is refused with the reason on both
# sides; the real w1 and w2 then run, and w2's results are the real w2's
DB=$TMP/id.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --keys "$K" --expect w1,w2 --timeout 30 --db "$DB" >"$TMP/out4" 2>"$TMP/err4" &
C=$!; PIDS+=($C)
sleep 0.5
timeout 20 "$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w2 --spool "$TMP/sx" \
  --cert "$K/workers/w1.cert_secret" --server-cert "$K/coordinator.cert" 2>"$TMP/wx"
expect_eq "$?" 2 "exit status of a worker using w1's key as w2"
grep -q "rejected by the coordinator: the CURVE key this worker uses is w1's, not w2's" "$TMP/wx" ||
  { cat "$TMP/wx"; fail "the impostor was not told why"; }
grep -q "refused w2: the CURVE key this worker uses is w1's, not w2's" "$TMP/err4" ||
  { cat "$TMP/err4"; fail "the coordinator did not log the impersonation"; }
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w1 --spool "$TMP/t1" \
  --cert "$K/workers/w1.cert_secret" --server-cert "$K/coordinator.cert" 2>"$TMP/v1" &
PIDS+=($!)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name w2 --spool "$TMP/t2" \
  --cert "$K/workers/w2.cert_secret" --server-cert "$K/coordinator.cert" 2>"$TMP/v2" &
V2=$!; PIDS+=($V2)
wait $C; rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/err4"; fail "run after the impersonation: exit $rc"; }
expect_eq "$(sql "SELECT group_concat(name) FROM (SELECT name FROM workers ORDER BY name)")" \
  "w1,w2" "admitted workers"
expect_eq "$(sql "SELECT pid FROM workers WHERE name='w2'")" "$V2" "w2's process (the real one)"

# a non-loopback bind needs --keys or --insecure
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://0.0.0.0:$PORT" \
  --expect 1 --db "$TMP/x.db" >/dev/null 2>"$TMP/err2"
expect_eq "$?" 2 "exit status of an unauthenticated non-loopback bind"
grep -q "give --keys DIR" "$TMP/err2" || fail "non-loopback message"
# a worker needs both halves
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --cert "$K/workers/w1.cert_secret" 2>"$TMP/err3"
expect_eq "$?" 2 "worker with --cert alone"
pass "only keygen's workers were admitted; the others were refused in the handshake"
