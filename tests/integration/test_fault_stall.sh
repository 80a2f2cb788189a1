# Issue 15: the coordinator stands still for 10 s (SIGSTOP, as a laptop
# asleep or a VM paused) in the middle of a measurement.  The workers did
# nothing wrong: on waking it takes in what they sent meanwhile, judges
# their silence from then on, loses nobody, stores every result once, and
# the run is complete (exit 0).  faults_lib.sh's fault_run says exactly
# what is checked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"
fault_can
fault_up || skip "cannot create a network namespace and a veth pair here"
trap 'fault_down; cleanup' EXIT
fault_run stop mid 10 || { echo "$FAULT_LINE"; tail -25 "$TMP"/stop-mid-10-both.err; fail "$FAULT_WHY"; }
echo "$FAULT_LINE"
grep -q "the coordinator stood still for 1[0-9]\.[0-9] s" "$TMP/stop-mid-10-both.err" ||
  fail "the coordinator did not notice it had stood still"
pass "coordinator stopped 10 s mid-phase: nobody lost, every result stored once, run complete"
