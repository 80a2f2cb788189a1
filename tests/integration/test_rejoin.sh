# Scenario 2 of issue 7: a worker frozen (SIGSTOP) for longer than the
# liveness timeout in the middle of phase 3 of 5 is declared lost; thawed
# (SIGCONT), the result it finishes is refused (it belongs to the epoch it
# was lost in), and it is admitted again with epoch 2.  With the default
# `rejoin: true` it takes part in phases 4 and 5; with `rejoin: false` it
# waits for the end of the run and measures nothing more.
. "$(dirname "$0")/lib.sh"

run_case() { # $1: experiment file, $2: tag
  local exp=$1 tag=$2
  DB=$TMP/$tag.db
  PORT=$(free_port)
  EP=tcp://127.0.0.1:$PORT
  "$LOCKSTEP" run "$exp" --bind "$EP" --expect w1,w2 --db "$DB" >"$TMP/$tag.out" 2>"$TMP/$tag.err" &
  COORD=$!; PIDS+=($COORD)
  for n in w1 w2; do
    "$WORKER" --connect "$EP" --name $n --spool "$TMP/$tag-spool-$n" 2>"$TMP/$tag-$n.log" &
    PIDS+=($!); eval "PID_$n=$!"
  done
  in_long() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM phases WHERE name='long'" 2>/dev/null)" = 1 ]; }
  wait_for 30 in_long || { cat "$TMP/$tag.err"; fail "$tag: phase 'long' never started"; }
  # frozen in the middle of its 6 s repetition, not before it (lib.sh)
  wait_measuring 30 "$PID_w2" || fail "$tag: w2 never started its repetition of 'long'"
  kill -STOP "$PID_w2"
  stopped_at=$(date +%s%N)
  # frozen until declared lost (3 missed heartbeats of 1 s), then thawed
  # while w1 still runs that repetition
  w2_lost() { [ "$(sql "SELECT status FROM workers WHERE name='w2'" 2>/dev/null)" = lost ]; }
  wait_for 10 w2_lost || { kill -CONT "$PID_w2"; fail "$tag: w2 never declared lost"; }
  kill -CONT "$PID_w2"
  wait $COORD; rc=$?
  cat "$TMP/$tag.out"
  expect_eq "$rc" 3 "$tag: coordinator exit status (a loss makes the run partial)"
  grep -q "^run 1 partial: 2 workers (0 lost, 1 lost and back)" "$TMP/$tag.out" || fail "$tag: summary line"
  grep -q "worker w2 lost in phase long" "$TMP/$tag.err" || fail "$tag: loss not logged"
  lost_after=$(( ($(sql "SELECT lost_at FROM workers WHERE name='w2'") - stopped_at) / 1000000 ))
  echo "$tag: w2 declared lost ${lost_after} ms after SIGSTOP"
  [ "$lost_after" -le 4000 ] || fail "$tag: lost after $lost_after ms (3 heartbeats of 1 s, checked every 250 ms)"
  grep -q "worker w2 is back: admitted again with epoch 2" "$TMP/$tag.err" || {
    tail -20 "$TMP/$tag.err"; fail "$tag: w2 not admitted again with a new epoch"; }
  grep -q "w2: refused its result of phase long rep 1: from epoch 1" "$TMP/$tag.err" || {
    tail -20 "$TMP/$tag.err"; fail "$tag: the stale result was not refused"; }
  grep -q "the coordinator refused our result of phase 2 rep 1" "$TMP/$tag-w2.log" ||
    fail "$tag: the worker was not told its result was refused"
  left=$(ls "$TMP/$tag-spool-w2" 2>/dev/null | grep "\.res"); [ -z "$left" ] || { cat "$TMP/$tag-w2.log"; fail "$tag: left in the spool: $left"; }
  expect_eq "$(sql "SELECT status || ',' || epoch || ',' || lost_phase || ',' || (rejoined_at > lost_at) FROM workers WHERE name='w2'")" \
    "rejoined,2,long,1" "$tag: w2's record"
  # the frozen repetition: a 'lost' row, never the stale value
  expect_eq "$(sql "SELECT status FROM results WHERE worker='w2' AND phase=2")" lost "$tag: w2 in phase long"
  # w1 ran everything
  expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='w1' AND status='ok')")" 9 "$tag: w1's results"
  expect_eq "$(sql "PRAGMA integrity_check")" ok "$tag: integrity"
}

# w2 comes back once its frozen repetition has ended, which on a loaded host
# (CI runs two tests at once, one of them maybe a VM) can be as late as the
# end of 'long': phase 4 a little longer than five.yaml's gives it the time
# to be admitted again before the run ends
sed '/^  - name: after$/,/^  - name: last$/s/time: 500ms/time: 1500ms/' \
  "$SRC/tests/integration/data/five.yaml" > "$TMP/five.yaml"
grep -q "time: 1500ms" "$TMP/five.yaml" || fail "could not lengthen phase 'after'"
run_case "$TMP/five.yaml" rejoin
# "it takes part in the repetitions still to run": every repetition whose
# workers were chosen after w2 was admitted again has w2 in it.  In
# lockstep a repetition's workers are chosen once the one before it has
# ended, so a repetition after 'long' is w2's if w2 was back before the
# repetition before it had finished (its last finished_at); which ones those
# are depends on how fast the host is, the rule does not.
echo "w2 in its new epoch: $(sql "SELECT group_concat(phase || '/' || rep, ' ') FROM results WHERE worker='w2' AND status='ok' AND phase >= 3 AND metric IN ('ok', 'events_per_sec')")"
reps_after() { # phase/rep of each repetition after 'long' chosen after w2 was back
  sql "WITH r AS (SELECT phase, rep, MAX(finished_at) AS fin FROM results GROUP BY phase, rep),
            o AS (SELECT phase, rep, LAG(fin) OVER (ORDER BY phase, rep) AS prev FROM r)
       SELECT phase || '/' || rep FROM o WHERE phase >= 3 AND
         prev > (SELECT rejoined_at FROM workers WHERE name='w2') ORDER BY phase, rep"
}
owed=$(reps_after | tr '\n' ' ')
echo "chosen after w2 was back: $owed"
read -ra owed_list <<< "$owed"
[ "${#owed_list[@]}" -ge 2 ] || {
  tail -20 "$TMP/rejoin.err"; tail -20 "$TMP/rejoin-w2.log"
  fail "w2 was back too late for the run to show that it takes part (after: $owed)"; }
for pr in "${owed_list[@]}"; do
  expect_eq "$(sql "SELECT status FROM results WHERE worker='w2' AND phase=${pr%/*} AND rep=${pr#*/} AND metric IN ('ok', 'events_per_sec')")" \
    ok "w2 in repetition $pr, chosen after it was back"
done
# and in none before it was back: it was lost (its frozen one is 'lost')
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE worker='w2' AND status='ok' AND phase >= 2 AND
  finished_at < (SELECT rejoined_at FROM workers WHERE name='w2')")" 0 "w2's results from before it was back"

sed 's/^grace: 5s$/grace: 5s\nrejoin: false/' "$TMP/five.yaml" > "$TMP/sitout.yaml"
grep -q "^rejoin: false" "$TMP/sitout.yaml" || fail "could not write the rejoin: false variant"
run_case "$TMP/sitout.yaml" sitout
grep -q "it sits out the rest of the run (rejoin: false)" "$TMP/sitout.err" || fail "sit-out not logged"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE worker='w2' AND phase >= 3")" 0 "w2 sat out phases 4-5"
pass "frozen worker lost, its stale result refused, admitted again with epoch 2 (rejoin on and off)"
