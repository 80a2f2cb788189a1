# Reference tools inside every platform: experiments/calibrate.yaml, with
# short phases, on native, docker and qemu.  sysbench, fio and forksum are
# shipped into the container and the VM beside the worker; every (platform,
# benchmark) pair has both its built-in's number and its reference's
# stored, each platform's conditions are stored, and `lockstep report`
# shows built-in / reference for each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
why=$(qemu_missing); [ -z "$why" ] || skip "$why"
for t in sysbench fio; do command -v $t >/dev/null || skip "$t not installed"; done

# the shipped experiment, shortened: 1 s phases, 2 repetitions, 64 MiB files
sed -e 's/time: 3s/time: 1s/g; s/--time=3/--time=1/; s/--runtime=3/--runtime=1/g' \
    -e 's/repetitions: 3/repetitions: 2/; s/256M/64M/g; s/"--time", "3"/"--time", "1"/' \
    "$SRC/experiments/calibrate.yaml" >"$TMP/cal.yaml"
DB=$TMP/c.db
"$LOCKSTEP" run "$TMP/cal.yaml" --platforms native,docker,qemu --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
[ $rc -eq 0 ] || { tail -30 "$TMP/err"; fail "exit status $rc, expected 0"; }
assert_nothing_left "$KEY"

value_of() { sql "SELECT COUNT(*) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
                  WHERE p.name='$1' AND r.worker='$2' AND r.metric='$3' AND r.status='ok'
                  AND r.value > 0"; }
for w in native docker qemu; do
  for pair in cpu:sysbench-cpu:events_per_sec mem:sysbench-memory:MiB_per_sec \
              diskSeq:fio-seq:MiB_per_sec diskRand:fio-rand:iops fork:forksum:forks_per_sec; do
    IFS=: read -r b ref metric <<<"$pair"
    expect_eq "$(value_of "$b" $w $metric)" 2 "$w $b ($metric) repetitions"
    expect_eq "$(value_of "$ref" $w $metric)" 2 "$w $ref ($metric) repetitions"
    expect_eq "$(sql "SELECT reference_for FROM phases WHERE name='$ref'")" "$b" "$ref reference_for"
  done
  expect_eq "$(sql "SELECT cpus || ' ' || memory FROM platforms WHERE name='$w'")" \
    "1 1073741824" "$w conditions"
done
# interleaved: repetition 1 of the last phase started before repetition 2 of the first
first2=$(sql "SELECT MIN(r.started_at) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
              WHERE p.name='cpu' AND r.rep=2")
last1=$(sql "SELECT MIN(r.started_at) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
             WHERE p.name='forksum' AND r.rep=1")
[ "$last1" -lt "$first2" ] || fail "repetitions not interleaved (forksum rep 1 at $last1, cpu rep 2 at $first2)"

"$LOCKSTEP" report --db "$DB" --out "$TMP/rep" >"$TMP/report" 2>&1 || { cat "$TMP/report"; fail "report failed"; }
cat "$TMP/report"
# built-in / reference, per platform and benchmark, in the calibration section
sed -n '/^calibration/,/^$/p' "$TMP/report" >"$TMP/calib"
for w in native docker qemu; do
  for pair in cpu:sysbench-cpu mem:sysbench-memory diskSeq:fio-seq diskRand:fio-rand fork:forksum; do
    IFS=: read -r b ref <<<"$pair"
    grep -qE "^  $w +$b +$ref +[0-9.]+ +[0-9.]+ +[0-9]+\.[0-9]+ " "$TMP/calib" ||
      { cat "$TMP/calib"; fail "no ratio for $w $b / $ref in the report"; }
  done
done
grep -q "Calibration" "$TMP/rep/report.md" || fail "no calibration section in report.md"
pass "calibrate: 5 built-ins beside their references on native, docker and qemu"
