# The benchmarks split between the programs (bench/list.h, bench.h's
# BENCH_IMPL): lockstep has the descriptors only and so links neither
# libiperf nor liburing, yet validates and lists every benchmark's options,
# iperf's too; lockstep-worker has the implementations and runs them.
. "$(dirname "$0")/lib.sh"
command -v readelf >/dev/null || skip "readelf (binutils) not installed"
needed() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; }

needed "$LOCKSTEP" >"$TMP/needed" || fail "readelf $LOCKSTEP"
grep -q '^libzmq' "$TMP/needed" || { cat "$TMP/needed"; fail "readelf shows no libzmq in lockstep"; }
if grep -E '^lib(iperf|uring)' "$TMP/needed"; then fail "lockstep links a benchmark's library"; fi

# every benchmark of the list, in its order, in lockstep's --version
names=$(sed -n 's/^BENCH(\([a-z0-9_]*\))$/\1/p' "$SRC/bench/list.h" | tr '\n' ' ')
"$LOCKSTEP" --version >"$TMP/v" 2>&1 || fail "lockstep --version"
built=$(sed -n 's/^benchmarks: //p' "$TMP/v")
[ -n "$built" ] || { cat "$TMP/v"; fail "--version lists no benchmarks"; }
for b in $built; do
  [[ " $names" == *" $b "* ]] || fail "--version lists $b, which bench/list.h does not name"
  "$LOCKSTEP" list "$b" >"$TMP/l" 2>&1 || fail "lockstep list $b"
  grep -q "^$b — " "$TMP/l" || { cat "$TMP/l"; fail "lockstep list $b"; }
done
expect_eq "$(echo $built)" "$(for n in $names; do [[ " $built " == *" $n "* ]] && echo $n; done | xargs)" \
  "--version's benchmarks in the list's order"

# the worker runs what lockstep only describes
"$WORKER" --run null --spool "$TMP" >"$TMP/r" 2>&1 || { cat "$TMP/r"; fail "lockstep-worker --run null"; }
grep -q '^metric ok 1 bool' "$TMP/r" || { cat "$TMP/r"; fail "lockstep-worker --run null: no metric"; }

if [[ " $built " == *" iperf "* ]]; then
  needed "$WORKER" | grep -q '^libiperf' || fail "lockstep-worker has iperf but does not link libiperf"
  printf 'name: net\nphases:\n  - name: up\n    bench: iperf\n    servers: [w0]\n    params:\n      streams: 4\n      time: 3s\n' >"$TMP/ok.yaml"
  "$LOCKSTEP" validate "$TMP/ok.yaml" >"$TMP/o" 2>&1 || { cat "$TMP/o"; fail "validate a good iperf experiment"; }
  grep -q "valid: experiment net" "$TMP/o" || { cat "$TMP/o"; fail "validate: no 'valid'"; }
  sed 's/time: 3s/time: 1500ms/' "$TMP/ok.yaml" >"$TMP/bad.yaml"
  "$LOCKSTEP" validate "$TMP/bad.yaml" >"$TMP/o" 2>&1; rc=$?
  expect_eq "$rc" 2 "validate an iperf phase with half a second"
  grep -q "bad.yaml:.*whole seconds" "$TMP/o" || { cat "$TMP/o"; fail "validate: iperf's own check"; }
  sed 's/streams: 4/stream: 4/' "$TMP/ok.yaml" >"$TMP/typo.yaml"
  "$LOCKSTEP" validate "$TMP/typo.yaml" >"$TMP/o" 2>&1; rc=$?
  expect_eq "$rc" 2 "validate an iperf phase with an unknown option"
  grep -q "typo.yaml:7:.*unknown option 'stream' for benchmark iperf" "$TMP/o" ||
    { cat "$TMP/o"; fail "validate: the unknown iperf option and where"; }
fi
pass "lockstep links no benchmark library and still knows every benchmark's options"
