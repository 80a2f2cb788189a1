# experiments/homework-quick.yaml with 2 local workers: every phase,
# repetition and worker stored, with every metric its benchmark reports.
. "$(dirname "$0")/lib.sh"
DB=$TMP/h.db
"$LOCKSTEP" run "$SRC/experiments/homework-quick.yaml" --local 2 --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "exit status $rc, expected 0"; }
expect_eq "$(sql "SELECT group_concat(name, ',') FROM (SELECT name FROM phases ORDER BY idx)")" \
  "cpu,mem,diskRand,diskSeq,fork" "phases"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 20 "(phase, rep, worker) rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status != 'ok'")" 0 "failed rows"
# every metric of every benchmark, for every repetition of every worker
for pm in cpu:events_per_sec cpu:events mem:MiB_per_sec mem:events_per_sec \
          diskRand:iops diskRand:MiB_per_sec diskRand:lat_p50_us diskRand:lat_p99_us \
          diskSeq:MiB_per_sec fork:forks_per_sec; do
  phase=${pm%%:*}; metric=${pm#*:}
  n=$(sql "SELECT COUNT(*) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
           WHERE p.name='$phase' AND r.metric='$metric' AND r.value > 0")
  expect_eq "$n" 4 "$phase $metric rows"
done
# what was measured is recorded beside it: parameters used, the I/O engine
expect_eq "$(sql "SELECT COUNT(*) FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
                  WHERE p.name='diskRand' AND d.key='engine'")" 4 "disk_rand engine details"
expect_eq "$(sql "SELECT COUNT(DISTINCT value) FROM result_details WHERE key='opt.file_size'")" 1 "file_size recorded"
pass "homework-quick stored every metric of every benchmark"
