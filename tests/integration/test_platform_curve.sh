# CURVE on by default for launched workers: a --platforms run (native,
# docker, qemu) mints a key pair for the coordinator and each platform
# worker — native gets its certificate on the command line, the container
# a read-only mount, the VM its initramfs — and every one of them is
# admitted; a client on the docker bridge without a key is refused in the
# handshake and logged; the minted keys are removed at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
why=$(qemu_missing); [ -z "$why" ] || skip "$why"

DB=$TMP/p.db
PORT=$(free_port)
"$LOCKSTEP" run "$SRC/tests/integration/data/hold.yaml" --platforms native,docker,qemu \
  --bind "tcp://127.0.0.1:$PORT" --db "$DB" >"$TMP/out" 2>"$TMP/err" &
C=$!; PIDS+=($C)
# once every platform is in (the phase is running), knock from the bridge
wait_for 120 grep -q "phase 1/1 hold" "$TMP/err" || { cat "$TMP/err"; fail "the run did not start"; }
KEY=$(sql "SELECT printf('%016x', key) FROM runs ORDER BY id DESC LIMIT 1")
image=$(timeout 20 docker ps --filter "label=lockstep.run=$KEY" --format '{{.Image}}' | head -1)
gw=$(sed -n 's/.*also listening on tcp:\/\/\([0-9.]*\):.*/\1/p' "$TMP/err" | head -1)
[ -n "$image" ] && [ -n "$gw" ] || fail "no container image ($image) or bridge address ($gw)"
timeout 30 docker run --rm --network bridge --label "lockstep.run=$KEY" "$image" \
  --connect "tcp://$gw:$PORT" --name intruder --spool /var/tmp/intruder >"$TMP/intruder" 2>&1 &
INTR=$!; PIDS+=($INTR)
wait_for 20 grep -qE "refused a connection from [0-9.]+: it did not complete the CURVE handshake" "$TMP/err" ||
  { tail -20 "$TMP/err"; fail "the keyless client on the bridge was not refused"; }
wait $C; rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { tail -30 "$TMP/err"; fail "exit status $rc, expected 0"; }
grep -q "CURVE: a key pair for each of the 3 platform workers" "$TMP/err" || fail "no keys minted"
keys=$(sed -n 's/.*CURVE: a key pair .* (in \(.*\), removed at the end)/\1/p' "$TMP/err")
[ -n "$keys" ] && [ ! -e "$keys" ] || fail "the minted keys ($keys) are still there"
expect_eq "$(sql "SELECT group_concat(name) FROM (SELECT name FROM workers ORDER BY name)")" \
  "docker,native,qemu" "admitted workers"
grep -q "admitted intruder" "$TMP/err" && fail "the intruder was admitted"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status='ok'")" 3 "results"
wait $INTR 2>/dev/null
assert_nothing_left "$KEY"
pass "platform workers admitted with minted CURVE keys; a keyless client on the bridge refused"
