# SIGKILL one of three local workers mid-run: the run goes on without it,
# ends partial (exit 3), records the loss, and stores every other result.
. "$(dirname "$0")/lib.sh"
DB=$TMP/k.db
"$LOCKSTEP" run "$SRC/tests/integration/data/long.yaml" --local 3 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
have_results() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM results" 2>/dev/null)" -ge 3 ] 2>/dev/null; }
wait_for 30 have_results || fail "no results appeared"
victim=$(pgrep -P $COORD -f -- "--name local-1 ") || fail "local-1 not found"
kill -9 $victim
wait $COORD; rc=$?
cat "$TMP/out"
expect_eq "$rc" 3 "coordinator exit status"
grep -q "^run 1 partial" "$TMP/out" || fail "summary does not say partial"
expect_eq "$(sql "SELECT status FROM runs")" partial "run status"
expect_eq "$(sql "SELECT status || ',' || (lost_at > 0) || ',' || lost_phase FROM workers WHERE name='local-1'")" "lost,1,primes" "loss record"
grep -q "worker local-1 lost in phase primes" "$TMP/err" || fail "loss not logged"
# the survivors: every repetition of every phase
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok' AND worker != 'local-1')")" 20 "survivors' results"
# the victim: what it finished is kept, then one 'lost' row, then nothing
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE worker='local-1' AND status='lost'")" 1 "lost row"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
pass "killed worker lost, run partial, other results stored"
