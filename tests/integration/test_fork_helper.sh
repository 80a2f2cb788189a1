# The fork benchmark's helper lockstep-forksum is found beside the running
# worker or at $LOCKSTEP_FORKSUM; without it a repetition fails with a
# message saying where it looked, and the worker goes on.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin"
cp "$WORKER" "$TMP/bin/lockstep-worker"

# a worker with no helper beside it
"$TMP/bin/lockstep-worker" --run fork start=1 end=8 events=1 time=0 >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
expect_eq "$rc" 1 "exit status without the helper"
grep -qxF "error fork: the helper lockstep-forksum is missing: looked for $TMP/bin/lockstep-forksum (beside this program; install it there or set LOCKSTEP_FORKSUM to its path): No such file or directory" "$TMP/out" ||
  fail "no clear message naming $TMP/bin/lockstep-forksum"

# LOCKSTEP_FORKSUM pointing nowhere
LOCKSTEP_FORKSUM=$TMP/nowhere "$WORKER" --run fork start=1 end=8 events=1 time=0 >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
expect_eq "$rc" 1 "exit status with LOCKSTEP_FORKSUM pointing nowhere"
grep -qxF "error fork: the helper LOCKSTEP_FORKSUM=$TMP/nowhere cannot be run: No such file or directory" "$TMP/out" ||
  fail "no clear message naming LOCKSTEP_FORKSUM=$TMP/nowhere"

# LOCKSTEP_FORKSUM naming the helper elsewhere; and the helper beside a copy
LOCKSTEP_FORKSUM=$BIN/lockstep-forksum "$TMP/bin/lockstep-worker" --run fork start=1 end=8 \
  events=2 time=0 >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "with LOCKSTEP_FORKSUM set"; }
grep -qx "metric trees 2 count" "$TMP/out" || { cat "$TMP/out"; fail "2 trees expected"; }
cp "$BIN/lockstep-forksum" "$TMP/bin/"
"$TMP/bin/lockstep-worker" --run fork start=1 end=8 events=3 time=0 >"$TMP/out" 2>"$TMP/err" ||
  { cat "$TMP/out" "$TMP/err"; fail "with the helper beside the worker"; }
grep -qx "metric trees 3 count" "$TMP/out" || { cat "$TMP/out"; fail "3 trees expected"; }
grep -qx "detail sum 36" "$TMP/out" || { cat "$TMP/out"; fail "sum 36 expected"; }

# started through an explicit loader, as the docker image's ENTRYPOINT does:
# /proc/self/exe is then the loader, and the helper is still the worker's
# neighbour, started through the same loader and libraries
loader=$(readelf -l "$WORKER" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)]/\1/p')
if [ -n "$loader" ] && [ -x "$loader" ]; then
  libc=$(ldd "$WORKER" | awk '$1 ~ /^libc\.so/ { print $3 }')
  "$loader" --library-path "$(dirname "$libc")" "$TMP/bin/lockstep-worker" --run fork start=1 \
    end=8 events=2 time=0 >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/out" "$TMP/err"; fail "through $loader"; }
  grep -qx "metric trees 2 count" "$TMP/out" || { cat "$TMP/out"; fail "2 trees expected through $loader"; }
fi

# the helper by hand: the line forksum.h describes, and a usage error
"$BIN/lockstep-forksum" 1 4 0 2 >"$TMP/out" || fail "lockstep-forksum 1 4 0 2 failed"
grep -qx "forksum trees 2 forks 12 ns [0-9]* last_sum 10 last_forks 6 what 0 errno 0" "$TMP/out" ||
  { cat "$TMP/out"; fail "unexpected answer from the helper"; }
"$BIN/lockstep-forksum" 4 1 0 1 >"$TMP/out" 2>"$TMP/err"
expect_eq "$?" 2 "exit status of the helper given start > end"
pass "the fork helper is found, and its absence is explained"
