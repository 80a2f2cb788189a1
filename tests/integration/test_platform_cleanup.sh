# Clean-up is guaranteed.  Ctrl-C during a run with platforms leaves no
# container, VM, state directory or process.  A coordinator killed with -9
# cannot clean up itself: its VM dies with it (PDEATHSIG), its container is
# left — and the next run with platforms removes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
plats=native,docker
[ -z "$(qemu_missing)" ] && plats=native,docker,qemu

LONG_WAIT=150   # containers and a VM start first

# Ctrl-C in the middle
DB=$TMP/a.db
start_long_run --platforms $plats
KEY=$(run_key_hex)
kill -INT $COORD
wait_for 60 bash -c "! kill -0 $COORD 2>/dev/null" || fail "coordinator did not end after SIGINT"
wait $COORD; rc=$?
grep -q "lockstep run: interrupted" "$TMP/err" || fail "interrupt not reported"
assert_nothing_left "$KEY"
echo "after SIGINT (exit $rc): nothing left of run $KEY"

# kill -9 in the middle, then a later run sweeps up
DB=$TMP/b.db
start_long_run --platforms $plats
KEY=$(run_key_hex)
kill -9 $COORD; wait $COORD 2>/dev/null
# the VM and the native worker die with their coordinator
# ([m]: the pattern must not match this bash -c command line itself)
wait_for 20 bash -c "! pgrep -f 'qemu-syste[m].*lockstep-$KEY' >/dev/null" || fail "VM outlived its coordinator"
[ -n "$(docker ps -a --filter "label=lockstep.run=$KEY" -q)" ] ||
  echo "note: the container ended by itself"
DB=$TMP/c.db
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --platforms native --db "$DB" \
  >"$TMP/outc" 2>"$TMP/errc" || { tail "$TMP/errc"; fail "the next run failed"; }
assert_nothing_left "$KEY"
assert_nothing_left "$(run_key_hex)"
pass "interrupted and killed runs left nothing behind ($plats)"
