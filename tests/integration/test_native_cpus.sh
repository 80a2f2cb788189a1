# Equal resources, native included: a native platform with cpus: 1 runs
# everything it starts on one CPU (affinity, inherited by the fork tree), one
# with cpus: 2 on two; the CPUs are stored as the conditions of the run; the
# fork tree held to one CPU makes fewer forks per second than the one on
# two; a platform asking for more CPUs than the host has fails with the
# reason; round-robin turns rotate from one repetition to the next and the
# order is stored.
. "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || skip "this host lets us use $(nproc) CPU; the test needs 2"

DB=$TMP/c.db
"$LOCKSTEP" run "$SRC/tests/integration/data/cpus.yaml" --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 3 ] || { tail -30 "$TMP/err"; fail "exit status $rc, expected 3 (partial: 'many' cannot start)"; }

expect_eq "$(sql "SELECT cpus || ' ' || cpu_list FROM platforms WHERE name='one'")" "1 0" "one's CPUs"
expect_eq "$(sql "SELECT cpus || ' ' || cpu_list FROM platforms WHERE name='two'")" "2 0-1" "two's CPUs"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='many'")" failed "many's status"
sql "SELECT detail FROM platforms WHERE name='many'" | grep -q "cpus: 256 asked, but this host lets lockstep use" ||
  fail "many's reason: $(sql "SELECT detail FROM platforms WHERE name='many'")"
# what the worker starts sees the affinity
nproc_of() { sql "SELECT group_concat(DISTINCT CAST(value AS INT)) FROM results r JOIN phases p
                  ON p.run=r.run AND p.idx=r.phase WHERE p.name='nproc' AND r.metric='cpus'
                  AND r.worker='$1'"; }
expect_eq "$(nproc_of one)" 1 "nproc under cpus: 1"
expect_eq "$(nproc_of two)" 2 "nproc under cpus: 2"
# the fork tree: one CPU against two (medians of 3 interleaved repetitions)
median() { sql "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
                WHERE p.name='fork' AND r.metric='forks_per_sec' AND r.worker='$1'
                ORDER BY value LIMIT 1 OFFSET 1"; }
f1=$(median one); f2=$(median two)
echo "fork forks/s: cpus 1 $f1, cpus 2 $f2"
python3 -c "import sys; sys.exit(0 if $f1 < 0.85 * $f2 else 1)" ||
  fail "the tree on one CPU ($f1 forks/s) is not slower than on two ($f2)"
# turns rotate: one first, then two first, then one first again
expect_eq "$(sql "SELECT group_concat(workers, ' | ') FROM (SELECT workers FROM rep_order
                  WHERE phase=1 ORDER BY rep)")" "one,two | two,one | one,two" "round-robin order"
pass "cpus: 1 → nproc 1, $f1 forks/s; cpus: 2 → nproc 2, $f2 forks/s; turns rotate"
