# Scenario 7 of issue 7: the database's file system turns read-only in the
# middle of a run (the kernel's remount-ro after an error).  The coordinator stops with a clear error naming the
# database and a non-zero exit; nothing stored is damaged; the workers'
# unacknowledged results stay in their spools; the same command, once the
# database is writable again, resumes the run and completes it with
# everything.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount a file system"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 missing (e2fsprogs)"
# an ext4 file system on a loop device, mounted errors=remount-ro: the
# kernel's own error path (trigger_fs_error) turns it read-only under the
# open database, as a failing disk would
IMG=$TMP/db.img
MNT=$TMP/dbfs
mkdir -p "$MNT"
truncate -s 64M "$IMG" && mkfs.ext4 -q -F "$IMG" || fail "cannot make $IMG"
mount -o loop,errors=remount-ro "$IMG" "$MNT" 2>"$TMP/mount.err" ||
  skip "cannot mount a loop device: $(cat "$TMP/mount.err")"
umount_it() { umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null; }
trap 'umount_it; cleanup' EXIT
DEV=$(basename "$(findmnt -n -o SOURCE "$MNT")")
[ -w "/sys/fs/ext4/$DEV/trigger_fs_error" ] || skip "no /sys/fs/ext4/$DEV/trigger_fs_error in this kernel"
DB=$MNT/r.db
EXP=$SRC/tests/integration/data/five.yaml
"$LOCKSTEP" run "$EXP" --local 2 --db "$DB" >"$TMP/a.out" 2>"$TMP/a.err" &
A=$!; PIDS+=($A)
in_long() { [ "$(sql "SELECT COUNT(*) FROM phases WHERE name='long'" 2>/dev/null)" = 1 ]; }
wait_for 30 in_long || { cat "$TMP/a.err"; fail "phase 'long' never started"; }
echo "lockstep test: database file system made read-only" > "/sys/fs/ext4/$DEV/trigger_fs_error" ||
  fail "cannot trigger the file system error"
findmnt -n -o OPTIONS "$MNT" | grep -q "^ro\|emergency_ro" || fail "$MNT did not turn read-only"
wait $A; rc=$?
cat "$TMP/a.err" | tail -5
[ $rc -ne 0 ] || fail "the coordinator went on without a writable database"
[ $rc -ne 3 ] || fail "exit 3 (partial) for a run that could not be stored"
grep -q "lockstep run: $DB: cannot store results\?: .*(the file system holding it is read-only)" "$TMP/a.err" ||
  fail "no clear error naming the database and the cause"
key=$(printf '%016x' "$(sql "SELECT key FROM runs")")
spool=/var/tmp/lockstep-spool-$key
grep -q "unacknowledged results, if any, are kept in $spool" "$TMP/a.err" ||
  fail "the spool's place was not said"
nspooled=$(ls "$spool"/local-*/*.res 2>/dev/null | wc -l)
echo "exit $rc; spooled: $nspooled results in $spool"
[ "$nspooled" -ge 1 ] || fail "the result whose commit failed is not in a spool"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity while read-only"
expect_eq "$(sql "SELECT status FROM runs")" running "status of the cut run"

# repaired and mounted again, as an operator would
# (the kernel may still find the error it was made to raise and turn the
# fresh mount read-only again a moment later: then repair once more, as an
# operator would, until a write and a second later it is still writable)
repaired=0
for _ in 1 2 3; do
  # (a process that had the file system open may take a moment to let go)
  findmnt -n "$MNT" >/dev/null && ! wait_for 10 umount "$MNT" 2>/dev/null &&
    { fuser -vm "$MNT" 2>&1 | head; fail "cannot unmount $MNT"; }
  e2fsck -fy "$IMG" >/dev/null 2>&1
  [ $? -le 1 ] || fail "e2fsck could not repair $IMG"
  mount -o loop "$IMG" "$MNT" 2>>"$TMP/remount.err" || fail "cannot mount $IMG again"
  touch "$MNT/.probe" 2>/dev/null && sync && sleep 1 && rm -f "$MNT/.probe" 2>/dev/null &&
    findmnt -n -o OPTIONS "$MNT" | grep -q "^rw" && { repaired=1; break; }
done
[ $repaired -eq 1 ] || { cat "$TMP/remount.err"; findmnt "$MNT"; dmesg | tail -8; fail "$MNT does not stay writable after repair"; }
"$LOCKSTEP" run "$EXP" --local 2 --db "$DB" >"$TMP/b.out" 2>"$TMP/b.err"
rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/b.err"; fail "rerun exit $rc"; }
grep -q "resuming it" "$TMP/b.err" || fail "the rerun did not resume the run"
expect_eq "$(sql "SELECT COUNT(*) || ',' || status FROM runs")" "1,complete" "runs"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 18 "every repetition of both workers"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status != 'ok'")" 0 "failed or lost rows"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE phase=2 AND metric='events_per_sec' AND COALESCE(scheduled_at, 0) = 0")" "$nspooled" "results taken from the spools"
[ ! -d "$spool" ] || fail "$spool left behind after the completed run"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"
pass "read-only database: clear error, spools kept, the rerun completed the run"
