# Read-only means read-only: report and export open the database for
# reading only — another user's read-only copy, a database on a read-only
# file system and a foreign SQLite file are all left byte for byte as they
# were; a file that is no lockstep database, and a run that does not exist,
# are refused with exit 2 and the reason.
. "$(dirname "$0")/lib.sh"
DB=$TMP/c.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --local 1 --db "$DB" -q >/dev/null 2>"$TMP/run.err" ||
  { cat "$TMP/run.err"; fail "the run"; }
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
sum() { sha256sum "$@" | awk '{print $1}' | tr '\n' ' '; }

# another user's copy, file 0444 in a 0555 directory
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  RO=$TMP/ro; mkdir "$RO"; cp "$DB" "$RO/c.db"; chmod 444 "$RO/c.db"; chmod 555 "$RO"; chmod o+x "$TMP"
  before=$(sum "$RO/c.db"); files=$(ls "$RO")
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
  as_nobody "$LOCKSTEP" report --db "$RO/c.db" >"$TMP/r1" 2>&1 || { cat "$TMP/r1"; fail "report of another user's read-only copy"; }
  grep -q "^lockstep report: run 1 of quick" "$TMP/r1" || { cat "$TMP/r1"; fail "report output"; }
  as_nobody "$LOCKSTEP" export --db "$RO/c.db" >"$TMP/e1" 2>&1 || { cat "$TMP/e1"; fail "export of another user's read-only copy"; }
  grep -q "^run,phase,bench" "$TMP/e1" || fail "export output"
  expect_eq "$(sum "$RO/c.db")" "$before" "the read-only copy's bytes"
  expect_eq "$(ls "$RO")" "$files" "files beside the read-only copy"
fi

# a read-only file system
if mkdir "$TMP/rofs" && mount -t tmpfs -o size=16m lockstep-ro "$TMP/rofs" 2>/dev/null; then
  cp "$DB" "$TMP/rofs/c.db"
  if mount -o remount,ro "$TMP/rofs" 2>/dev/null; then
    before=$(sum "$TMP/rofs/c.db")
    "$LOCKSTEP" report --db "$TMP/rofs/c.db" >"$TMP/r2" 2>&1 || { umount "$TMP/rofs"; cat "$TMP/r2"; fail "report on a read-only file system"; }
    "$LOCKSTEP" export --db "$TMP/rofs/c.db" --format json >"$TMP/e2" 2>&1 || { umount "$TMP/rofs"; cat "$TMP/e2"; fail "export on a read-only file system"; }
    expect_eq "$(sum "$TMP/rofs/c.db")" "$before" "the bytes on the read-only file system"
  else
    echo "note: cannot remount tmpfs read-only here; read-only file system case not run"
  fi
  umount "$TMP/rofs"
else
  echo "note: cannot mount tmpfs here; read-only file system case not run"
fi

# a foreign SQLite file: refused, untouched, no journal files made beside it
F=$TMP/foreign/other.sqlite; mkdir "$TMP/foreign"
sqlite3 "$F" "CREATE TABLE t(x); INSERT INTO t VALUES (1);"
before=$(sum "$F")
for cmd in report export; do
  "$LOCKSTEP" $cmd --db "$F" >"$TMP/f" 2>&1; rc=$?
  expect_eq "$rc" 2 "lockstep $cmd of a foreign SQLite file: exit status"
  grep -q "$F: not a lockstep database" "$TMP/f" || { cat "$TMP/f"; fail "lockstep $cmd: no reason given"; }
done
expect_eq "$(sum "$F")" "$before" "the foreign file's bytes"
expect_eq "$(ls "$TMP/foreign")" "other.sqlite" "files beside the foreign file"
expect_eq "$(sqlite3 "$F" "SELECT group_concat(name) FROM sqlite_master")" t "the foreign file's tables"
# not SQLite at all
echo "hello" >"$TMP/foreign/text.db"
"$LOCKSTEP" report --db "$TMP/foreign/text.db" >"$TMP/f" 2>&1; expect_eq "$?" 2 "report of a text file"

# runs that do not exist
"$LOCKSTEP" export --db "$DB" --run 42 >"$TMP/o" 2>"$TMP/e"; expect_eq "$?" 2 "export --run 42"
grep -q "no run 42 (the newest is 1" "$TMP/e" || { cat "$TMP/e"; fail "export --run 42: reason"; }
[ -s "$TMP/o" ] && fail "export --run 42 printed: $(cat "$TMP/o")"
"$LOCKSTEP" report --db "$DB" --run 42 >"$TMP/o" 2>"$TMP/e"; expect_eq "$?" 2 "report --run 42"
pass "report and export read without writing; foreign files and unknown runs refused"
