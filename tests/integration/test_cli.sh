# User mistakes get one clear message naming what and where and a non-zero
# exit, and nothing already stored is lost; help and version work.
. "$(dirname "$0")/lib.sh"
DB=$TMP/c.db
QUICK=$SRC/tests/integration/data/quick.yaml

# expect STATUS PATTERN -- command...: exit status and a line on stderr. Each
# command is bounded, so a hang names its command instead of timing the whole
# test out (CI once saw test_cli time out at 180 s with no word of where).
expect() {
  local want=$1 pat=$2; shift 3
  timeout -k 5 60 "$@" >"$TMP/o" 2>"$TMP/e"; local rc=$?
  [ $rc -ne 124 ] || { cat "$TMP/o" "$TMP/e"; fail "'$*': still running after 60 s"; }
  [ $rc -eq "$want" ] || { cat "$TMP/o" "$TMP/e"; fail "'$*': exit $rc, expected $want"; }
  [ -z "$pat" ] || grep -qE -- "$pat" "$TMP/e" "$TMP/o" || { cat "$TMP/e"; fail "'$*': no message matching '$pat'"; }
}

# a first, good run whose results must survive everything below
timeout 120 "$LOCKSTEP" run "$QUICK" --local 1 --db "$DB" -q >/dev/null 2>"$TMP/first.err" || fail "first run"
before=$(sql "SELECT COUNT(*) FROM results")
[ "$before" -gt 0 ] || fail "first run stored nothing"

expect 2 "missing.yaml: cannot read: No such file or directory" -- "$LOCKSTEP" run "$TMP/missing.yaml" --local 1 --db "$DB"
printf 'name: bad\nphases:\n  - name: a\n    bench: cpu\n    params:\n      max_prime: 1\n' >"$TMP/bad.yaml"
expect 2 "bad.yaml:6:18: max_prime: 1 is out of range" -- "$LOCKSTEP" run "$TMP/bad.yaml" --local 1 --db "$DB"
expect 2 "bad.yaml:6:18: " -- "$LOCKSTEP" validate "$TMP/bad.yaml"
printf 'name: [unclosed\n' >"$TMP/syntax.yaml"
expect 2 "syntax.yaml:[0-9]+:[0-9]+: " -- "$LOCKSTEP" validate "$TMP/syntax.yaml"
expect 0 "valid: experiment quick" -- "$LOCKSTEP" validate "$QUICK"
expect 0 "valid: experiment smoke" -- "$LOCKSTEP" validate "$SRC/experiments/smoke.yaml"
expect 2 "--local 'abc': expected a number of workers 1..256" -- "$LOCKSTEP" run "$QUICK" --local abc
expect 2 "--timeout '-1'" -- "$LOCKSTEP" run "$QUICK" --local 1 --timeout -1
expect 2 "unrecognized option '--frobnicate'" -- "$LOCKSTEP" run "$QUICK" --frobnicate
expect 2 "missing experiment FILE" -- "$LOCKSTEP" run
expect 2 "unknown command 'frob'" -- "$LOCKSTEP" frob
expect 2 "how many workers\\?" -- "$LOCKSTEP" run "$QUICK" --db "$DB"
expect 2 "not a loopback address" -- "$LOCKSTEP" run "$QUICK" --bind tcp://0.0.0.0:5555 --expect 1
# the worker's own arguments: each bad one named, exit 2
expect 2 "--swarm '5x': expected 1..4096" -- "$WORKER" --connect tcp://127.0.0.1:1 --swarm 5x
expect 2 "--swarm '0': expected 1..4096" -- "$WORKER" --connect tcp://127.0.0.1:1 --swarm 0
expect 2 "--forwarded '1': expected GUESTPORT:HOSTPORT" -- "$WORKER" --forwarded 1
expect 2 "--label 'room': expected KEY=VALUE" -- "$WORKER" --label room
expect 2 "--platform 'a b': expected auto, a kind" -- "$WORKER" --connect tcp://127.0.0.1:1 --platform "a b"
expect 2 "--cert and --server-cert go together" -- "$WORKER" --connect tcp://127.0.0.1:1 --cert x
expect 2 "unexpected argument 'extra'" -- "$WORKER" --connect tcp://127.0.0.1:1 extra
expect 2 "--connect ENDPOINT is required" -- "$WORKER"
# a database that cannot be opened: the operating system's reason
expect 2 "/nonexistent/dir/x.db: cannot open database: .*\(directory /nonexistent/dir: No such file or directory\)" -- "$LOCKSTEP" run "$QUICK" --local 1 --db /nonexistent/dir/x.db
expect 2 "$TMP: cannot open database: .*\(it is a directory\)" -- "$LOCKSTEP" run "$QUICK" --local 1 --db "$TMP"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
  mkdir "$TMP/ro" && chmod 555 "$TMP/ro" && chmod o+x "$TMP"
  expect 2 "$TMP/ro/x.db: cannot open database: .*\(directory $TMP/ro: Permission denied\)" -- \
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$LOCKSTEP" run "$QUICK" --local 1 --db "$TMP/ro/x.db"
fi
# --bind is read strictly: what was typed is what gets bound, or a reason
expect 2 "port 99999 is out of range: 1 to 65534" -- "$LOCKSTEP" run "$QUICK" --bind tcp://127.0.0.1:99999 --expect 1 --db "$DB"
expect 2 "'5555x' is not a port" -- "$LOCKSTEP" run "$QUICK" --bind tcp://127.0.0.1:5555x --expect 1 --db "$DB"
expect 2 "port 65535 is out of range: 1 to 65534 \(the PUB socket takes the next port, 65536\)" -- "$LOCKSTEP" run "$QUICK" --bind tcp://127.0.0.1:65535 --expect 1 --db "$DB"
expect 2 "--bind garbage: only TCP endpoints can be bound \(expected tcp://ADDRESS:PORT" -- "$LOCKSTEP" run "$QUICK" --bind garbage --expect 1 --db "$DB"
expect 2 "no port" -- "$LOCKSTEP" run "$QUICK" --bind tcp://127.0.0.1 --expect 1 --db "$DB"
expect 2 "host name 'no-such-host.invalid' does not resolve" -- "$LOCKSTEP" run "$QUICK" --bind tcp://no-such-host.invalid:5555 --expect 1 --db "$DB"
expect 2 "an IPv6 address goes in brackets" -- "$LOCKSTEP" run "$QUICK" --bind tcp://::1:5555 --expect 1 --db "$DB"
# a host name is resolved (not taken for a network interface), loopback stays loopback
expect 1 "ROUTER tcp://127.0.0.1:[0-9]+" -- "$LOCKSTEP" run "$QUICK" --bind "tcp://localhost:*" --expect 1 --timeout 1 --db "$DB"
expect 2 "no such database" -- "$LOCKSTEP" export --db "$TMP/none.db"
expect 2 "--format 'xml': expected csv, json or wide" -- "$LOCKSTEP" export --db "$DB" --format xml
expect 2 "unknown benchmark 'nope'" -- "$LOCKSTEP" list nope
expect 2 "--connect ENDPOINT is required" -- "$WORKER"
expect 2 "--platform 'lab A!': expected auto, a kind" -- "$WORKER" --connect tcp://127.0.0.1:1 --platform 'lab A!'
expect 2 "--label 'room': expected KEY=VALUE" -- "$WORKER" --connect tcp://127.0.0.1:1 --label room

# a worker with nobody to talk to says so, again and again, with the time
NOPORT=$(free_port)
timeout 5 "$WORKER" --connect "tcp://127.0.0.1:$NOPORT" --name lonely --spool "$TMP/lonely" 2>"$TMP/lonely.err"
grep -q "still not admitted by tcp://127.0.0.1:$NOPORT after 2 s: cannot reach it" "$TMP/lonely.err" ||
  { cat "$TMP/lonely.err"; fail "a worker without a coordinator does not say it keeps waiting"; }

# port in use: a coordinator holds the port, a second one says so
PORT=$(free_port)
"$LOCKSTEP" run "$QUICK" --bind "tcp://127.0.0.1:$PORT" --expect 1 --timeout 30 --db "$TMP/hold.db" >/dev/null 2>"$TMP/hold.err" &
HOLD=$!; PIDS+=($HOLD)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || fail "holder did not bind"
expect 1 "cannot bind tcp://127.0.0.1:$PORT: Address already in use" -- "$LOCKSTEP" run "$QUICK" --bind "tcp://127.0.0.1:$PORT" --expect 1 --db "$DB"
kill $HOLD
ended() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -z "$st" ] || [ "${st:0:1}" = Z ]; }
wait_for 10 ended $HOLD || fail "a coordinator waiting for workers did not end on SIGTERM within 10 s"
wait $HOLD 2>/dev/null
# no worker came within the deadline: failure, and the run is recorded as failed
expect 1 "no worker registered at tcp://127.0.0.1:[0-9]+ within 1 s" -- "$LOCKSTEP" run "$QUICK" --bind "tcp://127.0.0.1:*" --expect 1 --timeout 1 --db "$DB"

# nothing already stored was lost or changed
expect_eq "$(sql "SELECT COUNT(*) FROM results")" "$before" "results after the mistakes"
expect_eq "$(sql "SELECT status FROM runs WHERE id=1")" complete "first run's status"
expect_eq "$(sql "PRAGMA integrity_check")" ok "integrity"

# help and version
for sub in run validate export list report; do
  expect 0 "" -- "$LOCKSTEP" $sub --help
  grep -q "^usage: lockstep $sub" "$TMP/o" || fail "lockstep $sub --help"
done
expect 0 "" -- "$LOCKSTEP" --help
expect 0 "" -- "$LOCKSTEP" --version
for lib in libzmq CZMQ msgpack-c libiperf SQLite libyaml jansson libarchive; do
  grep -qE "^  $lib +([0-9]|not linked)" "$TMP/o" || { cat "$TMP/o"; fail "--version: $lib"; }
done
expect 0 "" -- "$WORKER" --help
expect 0 "" -- "$LOCKSTEP" list
grep -qE "^  max_prime +integer, 3\.\.1000000000 +default 10000" "$TMP/o" || { cat "$TMP/o"; fail "list shows cpu options"; }
expect 0 "" -- "$WORKER" --detect
grep -qE "^platform: (native|docker|kvm|qemu|vm)$" "$TMP/o" || fail "--detect"
pass "bad input refused clearly, stored results intact"
