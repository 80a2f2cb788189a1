# The house rules of issue 17 that a machine can check (scripts/layout-check.py):
# no include from the model to launchers, run, store, reports or CLI; SQL
# only in the store; no function over 100 lines outside tests; `lockstep`
# links neither libiperf nor liburing.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v ldd >/dev/null || skip "ldd not installed"
python3 "$SRC/scripts/layout-check.py" "$SRC" --bin "$BIN" >"$TMP/out" 2>&1 ||
  { cat "$TMP/out"; fail "the layout's rules are broken"; }
# the check itself can fail: a model header that includes a launcher, a long
# function, in a copy of a few files
mkdir -p "$TMP/src/coordinator/model" "$TMP/src/common" "$TMP/src/bench" "$TMP/src/worker"
printf '#include "platform/launch.h"\n' >"$TMP/src/coordinator/model/x.h"
{ echo 'int f(void)'; echo '{'; for i in $(seq 101); do echo "    (void)$i;"; done; echo '}'; } \
  >"$TMP/src/common/long.c"
python3 "$SRC/scripts/layout-check.py" "$TMP/src" >"$TMP/bad" 2>&1 && fail "a breach passed the check"
grep -q "model/ includes platform/launch.h" "$TMP/bad" || { cat "$TMP/bad"; fail "include breach not named"; }
grep -q "long.c:1: f is 104 lines" "$TMP/bad" || { cat "$TMP/bad"; fail "long function not named"; }
pass "layout rules hold"
