# The comparison lockstep exists for, end to end on this host: native,
# docker and qemu (TCG) workers started by the coordinator run the homework
# experiment round-robin; every platform has a result for every benchmark,
# each worker's own detection is stored beside its launcher's label, QEMU's
# emulated cpu is less than half of native's, and nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
why=$(qemu_missing); [ -z "$why" ] || skip "$why"

DB=$TMP/p.db
"$LOCKSTEP" run "$SRC/experiments/homework-quick.yaml" --platforms native,docker,qemu \
  --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
[ $rc -eq 0 ] || { tail -30 "$TMP/err"; fail "exit status $rc, expected 0"; }
assert_nothing_left "$KEY"

expect_eq "$(sql "SELECT group_concat(name || ':' || status, ',') FROM (SELECT * FROM platforms ORDER BY name)")" \
  "docker:ran,native:ran,qemu:ran" "platforms table"
expect_eq "$(sql "SELECT group_concat(name || ':' || launched_as, ',') FROM (SELECT * FROM workers ORDER BY name)")" \
  "docker:docker,native:native,qemu:qemu" "launched_as"
# the worker's own detection: the container and the VM know what they are;
# native says what lockstep-worker --detect says on this host (a host that
# is itself a container says docker, and the summary shows the mismatch)
expect_eq "$(sql "SELECT platform FROM workers WHERE name='docker'")" docker "docker detection"
expect_eq "$(sql "SELECT platform FROM workers WHERE name='qemu'")" qemu "qemu detection"
host=$("$WORKER" --detect | awk '/^platform/ {print $2; exit}')
expect_eq "$(sql "SELECT platform FROM workers WHERE name='native'")" "$host" "native detection"
if [ "$host" != native ]; then
  grep -q "native .*MISMATCH: launched as native" "$TMP/out" || fail "detection mismatch not shown"
fi
# the report groups by what each worker was launched as: native and docker
# are two rows even where native detects itself as docker (this host)
"$LOCKSTEP" report --db "$DB" >"$TMP/report" 2>&1 || { cat "$TMP/report"; fail "report"; }
for p in native docker qemu; do
  sed -n '/^cpu: /,/^$/p' "$TMP/report" | grep -qE "^  $p +2 " ||
    { cat "$TMP/report"; fail "report: no cpu row of 2 for $p"; }
done
if [ "$host" != native ]; then
  grep -q "detection MISMATCH: native was launched as native, its worker detected itself as $host" "$TMP/report" ||
    fail "report: the detection mismatch is not flagged"
fi
# round-robin by default: one worker at a time
expect_eq "$(sql "SELECT group_concat(DISTINCT schedule) FROM phases")" round-robin "schedule"
# every platform, every benchmark, every repetition
for w in native docker qemu; do
  for ph in cpu mem diskRand diskSeq fork; do
    n=$(sql "SELECT COUNT(DISTINCT r.rep) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
             WHERE r.worker='$w' AND p.name='$ph' AND r.status='ok' AND r.value > 0")
    expect_eq "$n" 2 "$w $ph repetitions"
  done
done
# the disk benchmarks measured a disk: O_DIRECT held in the VM's virtio-blk
# disk (not RAM) — the engine and directness are recorded
expect_eq "$(sql "SELECT COUNT(*) FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
                  WHERE d.worker='qemu' AND p.name='diskSeq' AND d.key='fallback'")" 0 "qemu O_DIRECT fallback"
# software emulation: qemu's cpu under half of native's (median of reps)
cpu() { sql "SELECT AVG(value) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
             WHERE r.worker='$1' AND p.name='cpu' AND r.metric='events_per_sec'"; }
nat=$(cpu native); emu=$(cpu qemu)
echo "cpu events/s: native $nat, qemu $emu"
python3 -c "import sys; sys.exit(0 if $emu < 0.5 * $nat else 1)" ||
  fail "qemu cpu $emu events/s is not below half of native's $nat"
pass "native, docker and qemu workers ran homework-quick; qemu cpu $emu vs native $nat events/s"
