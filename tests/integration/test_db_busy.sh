# Another process holds the database's write lock for a while during a run:
# results are not acknowledged until they can be committed, workers re-send,
# the coordinator keeps its heartbeats going, and the run completes whole.
. "$(dirname "$0")/lib.sh"
DB=$TMP/busy.db
start_long_run --local 2
python3 - "$DB" <<'PY' || fail "could not hold the lock"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
time.sleep(2.5)
db.execute("ROLLBACK")
PY
wait $COORD; rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "exit status $rc, expected 0"; }
grep -q "database busy" "$TMP/err" || fail "the lock was never hit (test did not test)"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 20 "results"
expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE status='lost'")" 0 "workers lost"
pass "a busy database delays acknowledgements, loses nothing"
