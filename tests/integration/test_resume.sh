# Scenario 3 of issue 7: the coordinator is killed (SIGKILL) in the middle
# of phase 3 of 5, after its workers finished that repetition but before it
# acknowledged their results (it was frozen: they stay in the spools).  The
# same command on the same database resumes the run: the workers register
# again by themselves and re-send what they spooled; the repetitions stored
# before the crash are not run again; the finished database has every
# (phase, repetition, worker) exactly once.
. "$(dirname "$0")/lib.sh"
DB=$TMP/r.db
PORT=$(free_port)
EP=tcp://127.0.0.1:$PORT
EXP=$SRC/tests/integration/data/five.yaml
"$LOCKSTEP" run "$EXP" --bind "$EP" --expect w1,w2,w3 --db "$DB" >"$TMP/a.out" 2>"$TMP/a.err" &
A=$!; PIDS+=($A)
for n in w1 w2 w3; do
  "$WORKER" --connect "$EP" --name $n --spool "$TMP/spool-$n" 2>"$TMP/$n.log" &
  PIDS+=($!); WPIDS+=($!)
done
in_long() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM phases WHERE name='long'" 2>/dev/null)" = 1 ]; }
wait_for 30 in_long || { cat "$TMP/a.err"; fail "phase 'long' never started"; }
# all three have their GO and measure (lib.sh), so that they finish 'long'
wait_measuring 30 "${WPIDS[@]}" || fail "the workers never started 'long'"
kill -STOP $A # frozen: the results of 'long' will not be acknowledged
spooled() { [ "$(ls "$TMP"/spool-w*/*-00002-000001.res 2>/dev/null | wc -l)" = 3 ]; }
wait_for 15 spooled || { kill -9 $A; fail "the workers did not spool their results of 'long'"; }
kill -9 $A; wait $A 2>/dev/null
echo "spooled at the crash: $(cd "$TMP" && ls spool-w*/*.res | tr '\n' ' ')"
expect_eq "$(sql "SELECT status FROM runs")" running "the crashed run's status"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE phase=2")" 0 "results of 'long' stored before the crash"
# what was stored before the crash, to check it is never measured again
sql "SELECT phase, rep, worker, metric, value, started_at FROM results ORDER BY 1,2,3,4" | sort > "$TMP/before"
nbefore=$(wc -l < "$TMP/before")
[ "$nbefore" -ge 12 ] || fail "only $nbefore rows before the crash"

# the same command again
"$LOCKSTEP" run "$EXP" --bind "$EP" --expect w1,w2,w3 --db "$DB" >"$TMP/b.out" 2>"$TMP/b.err"
rc=$?
cat "$TMP/b.out"
[ $rc -eq 0 ] || { tail -30 "$TMP/b.err"; fail "resumed run exit $rc"; }
grep -q "run 1 of five was cut short (its coordinator is gone): resuming it" "$TMP/b.err" ||
  fail "the resume was not said"
expect_eq "$(sql "SELECT COUNT(*) || ',' || status || ',' || resumes FROM runs")" "1,complete,1" "runs"
# no duplicate, no gap: 9 repetitions x 3 workers, each once, each ok
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results)")" 27 "(phase, rep, worker) rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
                  WHERE r.metric = CASE p.bench WHEN 'cpu' THEN 'events_per_sec' ELSE 'ok' END")" 27 "headline rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status != 'ok'")" 0 "failed or lost rows"
# stored before the crash: untouched
sql "SELECT phase, rep, worker, metric, value, started_at FROM results ORDER BY 1,2,3,4" | sort > "$TMP/after"
missing=$(comm -23 "$TMP/before" "$TMP/after" | wc -l)
expect_eq "$missing" 0 "rows stored before the crash changed or gone"
# the spooled results of 'long' are the ones stored: taken from the spools
# (no scheduled_at: no GO of the resumed coordinator measured them)
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE phase=2 AND metric='events_per_sec' AND COALESCE(scheduled_at, 0) = 0 AND started_at > 0")" 3 "spooled results stored"
for n in w1 w2 w3; do
  grep -c "cpu rep 1: done" "$TMP/$n.log" | grep -qx 3 ||
    fail "$n ran 'cpu rep 1' $(grep -c "cpu rep 1: done" "$TMP/$n.log") times (small, long, after: 3)"
done
left=$(ls "$TMP"/spool-w*/ 2>/dev/null | grep "\.res")
[ -z "$left" ] || fail "left in the spools: $left"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
pass "coordinator killed mid-phase, run resumed: nothing repeated, nothing missing, spooled results stored"
