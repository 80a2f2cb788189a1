# A disk benchmark on a full file system: that result is failed with the
# reason, the run goes on with the next phase and ends partial (exit 3),
# and the benchmark's test file is removed.  The file system is a small
# tmpfs of the test's own, filled before the run.
. "$(dirname "$0")/lib.sh"
MNT=$TMP/full
mkdir -p "$MNT"
mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null || skip "cannot mount a tmpfs here (not root?)"
trap 'umount "$MNT" 2>/dev/null; cleanup' EXIT
head -c 4194304 /dev/zero > "$MNT/filler" 2>/dev/null   # ENOSPC at the end: full
cat > "$TMP/full.yaml" <<YAML
name: full
schedule: lockstep
phases:
  - name: seq
    bench: disk_seq
    params: {dir: $MNT, file_size: 16M, block_size: 1M, time: 1s, direct: false}
  - name: after
    bench: cpu
    params: {max_prime: 2000, time: 1s}
YAML
DB=$TMP/f.db
"$LOCKSTEP" run "$TMP/full.yaml" --local 1 --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
expect_eq "$rc" 3 "exit status"
expect_eq "$(sql "SELECT status FROM results WHERE phase=0")" failed "full-disk result"
err=$(sql "SELECT error FROM results WHERE phase=0")
echo "error: $err"
case "$err" in *"No space left on device"*"$MNT"*|*"$MNT"*"No space left on device"*) ;;
  *) fail "the reason does not say the disk is full and where: $err" ;; esac
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE phase=1 AND metric='events_per_sec' AND status='ok' AND value > 0")" 1 "next phase's result"
expect_eq "$(ls "$MNT")" filler "files left on the full file system"
pass "a full disk failed that result with the reason; the run went on; nothing left"
