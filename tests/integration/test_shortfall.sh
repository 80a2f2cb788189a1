# A run that cannot be complete says so: fewer workers than expected, a
# name already in use, a phase nobody can run -> partial (exit 3).  And
# --local N wins over the experiment's list of lab worker names.
. "$(dirname "$0")/lib.sh"
NAMED=$SRC/tests/integration/data/named.yaml

# --local 2 with an experiment that names lab-a, lab-b: the local ones run it
DB=$TMP/l.db
"$LOCKSTEP" run "$NAMED" --local 2 --timeout 10 --db "$DB" >"$TMP/out1" 2>"$TMP/err1"
rc=$?
[ $rc -eq 0 ] || { cat "$TMP/err1"; fail "--local with named experiment: exit $rc"; }
expect_eq "$(sql "SELECT group_concat(name) FROM workers")" "local-0,local-1" "local workers"

# one of the two named workers comes, a second process under the same name
# is refused by the transport and tells its user why it hears nothing
DB=$TMP/s.db
PORT=$(free_port)
"$LOCKSTEP" run "$NAMED" --bind "tcp://127.0.0.1:$PORT" --timeout 6 --db "$DB" >"$TMP/out2" 2>"$TMP/err2" &
COORD=$!; PIDS+=($COORD)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name lab-a --spool "$TMP/sa" 2>"$TMP/wa" &
WA=$!; PIDS+=($WA)
sleep 1
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name lab-a --spool "$TMP/sb" 2>"$TMP/wb" &
WB=$!; PIDS+=($WB)
wait $COORD; rc=$?
expect_eq "$rc" 3 "exit status with 1 of 2 named workers"
grep -q "^run 1 partial: 1 workers" "$TMP/out2" || { cat "$TMP/out2"; fail "summary"; }
grep -q "1 of 2 expected workers arrived before the deadline; never arrived: lab-b" "$TMP/err2" ||
  { cat "$TMP/err2"; fail "shortfall not logged with the missing worker's name"; }
# the absentee is stored: the run records whom it expected and missed
expect_eq "$(sql "SELECT status FROM workers WHERE name='lab-b'")" absent "lab-b's status"
sql "SELECT lost_reason FROM workers WHERE name='lab-b'" | grep -q "never arrived: admission closed after" ||
  fail "lab-b's reason: $(sql "SELECT lost_reason FROM workers WHERE name='lab-b'")"
"$LOCKSTEP" report --db "$DB" >"$TMP/rep" 2>&1 || fail "report of the short run"
grep -q "^absent: lab-b: never arrived: admission closed after" "$TMP/rep" || { cat "$TMP/rep"; fail "report does not name the absent worker"; }
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE worker='lab-a' AND status='ok'")" 2 "lab-a results"
# (or, if the first connection dropped for a moment and let it through, the
# coordinator refuses the second process by name)
wait_for 10 grep -qE "is no other worker connected under the name 'lab-a'|name 'lab-a' is in use by pid" "$TMP/wb" ||
  { cat "$TMP/wb"; fail "the duplicate did not explain itself"; }
kill $WB 2>/dev/null; wait $WB 2>/dev/null

# a phase restricted to a platform nobody has
cat >"$TMP/nophase.yaml" <<'YAML'
name: nophase
phases:
  - name: everyone
    bench: null
  - name: vms-only
    bench: null
    workers: [qemu]
YAML
DB=$TMP/p.db
"$LOCKSTEP" run "$TMP/nophase.yaml" --local 1 --db "$DB" >"$TMP/out3" 2>"$TMP/err3"
expect_eq "$?" 3 "exit status with a phase nobody ran"
grep -q "phase vms-only: no live worker takes part" "$TMP/err3" || fail "empty phase not logged"
pass "incomplete runs end partial"
