# The load tool at N = 64: one `lockstep-worker --swarm 64` process, a
# coordinator expecting 64 workers, a few lockstep repetitions of null.
# Everyone admitted, every result stored, the skew measured.
. "$(dirname "$0")/lib.sh"
DB=$TMP/w.db
PORT=$(free_port)
cat >"$TMP/swarm.yaml" <<'YAML'
name: swarm
repetitions: 5
phases:
  - name: null
    bench: null
YAML
"$WORKER" --swarm 64 --name sw --connect "tcp://127.0.0.1:$PORT" --spool "$TMP/spool" --quiet \
  2>"$TMP/swarm.err" &
PIDS+=($!)
SWARM=$!
"$LOCKSTEP" run "$TMP/swarm.yaml" --expect 64 --bind "tcp://127.0.0.1:$PORT" --db "$DB" \
  --timeout 40 >"$TMP/out" 2>"$TMP/err"
rc=$?
tail -4 "$TMP/out"
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "exit status $rc, expected 0"; }
grep -q "^run 1 complete: 64 workers (0 lost)" "$TMP/out" || fail "summary line"
# the swarm ends on QUIT, every one of its workers with status 0
wait_for 15 bash -c "! kill -0 $SWARM 2>/dev/null" || fail "swarm still running after the run"
wait "$SWARM"; src=$?
expect_eq "$src" 0 "swarm exit status"
expect_eq "$(sql "SELECT COUNT(*) FROM workers")" 64 "admitted"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status='ok'")" 320 "results (5 x 64)"
expect_eq "$(sql "SELECT COUNT(*) FROM rep_timing WHERE skew_ns >= 0")" 5 "skew per repetition"
# names and spools are the swarm's own
expect_eq "$(sql "SELECT MIN(name) || ' ' || MAX(name) FROM workers")" "sw-0000 sw-0063" "names"
[ -d "$TMP/spool/sw-0063" ] || fail "no spool for sw-0063"
expect_eq "$(find "$TMP/spool" -name '*.res' | wc -l)" 0 "acknowledged results left in spools"
pass "swarm of 64: admitted, 320 results, skew measured"
