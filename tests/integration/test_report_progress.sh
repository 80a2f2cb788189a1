# What `lockstep run` shows while it runs: not on a terminal, one plain log
# line per phase (with elapsed time, ETA and lost workers); --quiet, none;
# --verbose, a line per repetition too; on a terminal (script(1) gives it
# one), a live status line redrawn in place and cleared before the summary.
. "$(dirname "$0")/lib.sh"
QUICK=$SRC/tests/integration/data/quick.yaml
DB=$TMP/p.db

"$LOCKSTEP" run "$QUICK" --local 2 --db "$DB" >"$TMP/o" 2>"$TMP/e" || fail "run: exit $?"
line="INFO  \[lockstep\] phase [1-3]/3 [a-z]+ \([a-z]+, [a-z-]+, [0-9] reps\): "
line+="[0-9]+:[0-9]{2} elapsed, ETA [0-9]+:[0-9]{2}, 0 lost$"
expect_eq "$(grep -cE "$line" "$TMP/e")" 3 "one log line per phase"
grep -q $'\r' "$TMP/e" && fail "carriage returns in a log that is not a terminal"
grep -q "^run 1 complete" "$TMP/o" || fail "summary"

"$LOCKSTEP" run "$QUICK" --local 2 --db "$DB" -q >"$TMP/o" 2>"$TMP/e" || fail "run -q: exit $?"
grep -q "phase" "$TMP/e" && fail "--quiet still logs phases"
grep -q "^run 2 complete" "$TMP/o" || fail "--quiet: summary"

"$LOCKSTEP" run "$QUICK" --local 2 --db "$DB" -v >"$TMP/o" 2>"$TMP/e" || fail "run -v: exit $?"
# sync 3 repetitions, primes 2, forksum 2
expect_eq "$(grep -cE "INFO  \[lockstep\] [a-z]+ rep [0-9]/[0-9]: 2 workers$" "$TMP/e")" 7 \
  "--verbose: a line per repetition"

command -v script >/dev/null || skip "script(1) not installed: the terminal case is untested"
TERM=xterm script -qfec "stty cols 150 2>/dev/null; '$LOCKSTEP' run '$QUICK' --local 2 --db '$DB'" \
  "$TMP/tty" >/dev/null 2>&1 || fail "run on a terminal: exit $?"
python3 - "$TMP/tty" <<'PY' || fail "live status line"
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
lines = re.findall(r"\r\x1b\[K(phase [^\r\n]*)\r", t)
want = r"phase [1-3]/3 \w+ \| rep [1-3]/[23] \| workers [0-2]/2 done \| \d+:\d\d elapsed, ETA (\d+:\d\d|\?) \| 0 lost$"
bad = [l for l in lines if not re.match(want, l)]
if len(lines) < 7 or bad:
    sys.exit(f"{len(lines)} status lines, malformed: {bad[:3]}")
if not any("phase 3/3 forksum | rep 2/2" in l for l in lines):
    sys.exit("the last repetition was never shown")
# cleared before the summary, which starts a line of its own
if not re.search(r"\r\x1b\[Krun 4 complete", t):
    sys.exit("status line not cleared before the summary")
PY
pass "progress: a log line per phase, quiet, verbose, a live line on a terminal"
