# kvm: a worker VM under -accel kvm runs the quick experiment when a guest
# can actually start under /dev/kvm here; otherwise lockstep must say why it
# skipped kvm (absent, unusable, or a guest that cannot start — nested
# virtualization), and this test reports itself skipped with that reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(qemu_missing); [ -z "$why" ] || skip "$why"

DB=$TMP/k.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --platforms kvm --db "$DB" \
  >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
assert_nothing_left "$KEY"
status=$(sql "SELECT status FROM platforms WHERE name='kvm'")
reason=$(sql "SELECT detail FROM platforms WHERE name='kvm'")
case "$status" in
  ran)
    [ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "kvm ran but exit status $rc"; }
    expect_eq "$(sql "SELECT platform FROM workers WHERE name='kvm'")" kvm "kvm detection"
    expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='kvm' AND status='ok')")" 7 "kvm results"
    pass "a kvm worker VM ran the quick experiment" ;;
  skipped)
    # the only platform could not start: the run says so and fails
    [ $rc -eq 1 ] || fail "kvm skipped but exit status $rc, expected 1"
    # as a fixed string, and only up to the guest's console: the console may
    # hold escape sequences and brackets that a pattern would misread
    grep -qF "platform kvm skipped: ${reason%%; console:*}" "$TMP/err" ||
      fail "reason not on stderr: $reason"
    case "$reason" in
      "/dev/kvm absent"*|"/dev/kvm not usable"*|"/dev/kvm present but a guest cannot start"*) ;;
      *) fail "unexpected reason for skipping kvm: $reason" ;;
    esac
    skip "kvm: $reason" ;;
  *)
    tail -20 "$TMP/err"; fail "kvm platform status '$status' ($reason), exit $rc" ;;
esac
