# A launcher that fails does not take the run down: the docker engine
# "stops" in the middle of setting up (a docker CLI wrapper that answers
# until `docker run`, then fails as a stopped engine does) → a clear
# message, the native platform runs, the run is partial; with --require-all
# the run fails instead.  An engine that is not running at all → docker is
# skipped with that reason and the run is complete.  Nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
real=$(command -v docker)
cat > "$TMP/docker" <<WRAP
#!/bin/bash
if [ "\$1" = run ]; then
  echo "docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?." >&2
  exit 125
fi
exec "$real" "\$@"
WRAP
chmod +x "$TMP/docker"

DB=$TMP/f.db
LOCKSTEP_DOCKER=$TMP/docker "$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" \
  --platforms native,docker --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
assert_nothing_left "$KEY"
expect_eq "$rc" 3 "exit status with a failed platform"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='docker'")" failed "docker status"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='native'")" ran "native status"
reason=$(sql "SELECT detail FROM platforms WHERE name='docker'")
echo "docker: $reason"
case "$reason" in *"Cannot connect to the Docker daemon"*) ;; *) fail "reason does not say why: $reason";; esac
grep -q "platform docker failed to start: " "$TMP/err" || fail "no message on stderr"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep FROM results WHERE worker='native' AND status='ok')")" 7 "native results"

# --require-all: the same failure fails the run, and leaves nothing either
DB=$TMP/g.db
LOCKSTEP_DOCKER=$TMP/docker "$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" \
  --platforms native,docker --require-all --db "$DB" >"$TMP/out2" 2>"$TMP/err2"
rc=$?
KEY=$(run_key_hex)
assert_nothing_left "$KEY"
expect_eq "$rc" 1 "exit status with --require-all"
grep -q "platform docker could not start (--require-all)" "$TMP/err2" || { cat "$TMP/err2"; fail "--require-all message"; }
expect_eq "$(sql "SELECT COUNT(*) FROM results")" 0 "results with --require-all"

# no engine at all: skipped with the reason, the run goes on and is complete
DB=$TMP/h.db
DOCKER_HOST=unix://$TMP/no-such.sock "$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" \
  --platforms native,docker --db "$DB" >"$TMP/out3" 2>"$TMP/err3"
rc=$?
KEY=$(run_key_hex)
assert_nothing_left "$KEY"
expect_eq "$rc" 0 "exit status with docker skipped"
expect_eq "$(sql "SELECT status FROM platforms WHERE name='docker'")" skipped "docker status"
reason=$(sql "SELECT detail FROM platforms WHERE name='docker'")
case "$reason" in "docker engine not running"*) ;; *) fail "skip reason: $reason";; esac
grep -q "docker .*skipped .*docker engine not running" "$TMP/out3" || fail "summary does not show the skip"

# a bad platform name is bad input: exit 2, nothing stored
DB=$TMP/i.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --platforms native,xen --db "$DB" \
  >"$TMP/out4" 2>"$TMP/err4"
expect_eq "$?" 2 "exit status for an unknown platform"
grep -q "'xen' is neither a platform kind" "$TMP/err4" || fail "unknown platform message"
[ ! -e "$DB" ] || expect_eq "$(sql "SELECT COUNT(*) FROM runs")" 0 "runs stored for bad input"
pass "a failing launcher was reported and the others ran; --require-all failed; nothing left"
