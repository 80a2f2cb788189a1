# Issue 15: w2, in a network namespace, is cut off from the coordinator
# (iptables DROP inside its namespace) while w1 is not:
#   - both ways for 8 s in the middle of a measurement: w2 is lost, the
#     repetition it finished during the outage is stored all the same, it
#     is back within a few beats of the network's return and runs what is
#     left;
#   - only inbound, only outbound, 8 s: the same, whichever side's
#     connection died;
#   - both ways for 2 s across the start instant of a lockstep repetition:
#     shorter than the liveness limit, so nobody is lost and the run is
#     complete.
# Each case: no finished result lost, none stored twice, the exit status
# says what happened (faults_lib.sh's fault_run).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"
fault_can
fault_up || skip "cannot create a network namespace and a veth pair here"
trap 'fault_down; cleanup' EXIT
failed=()
for c in "mid 8 both" "mid 8 in" "mid 8 out" "start 2 both"; do
  set -- $c
  if fault_run cut "$1" "$2" "$3"; then
    echo "$FAULT_LINE"
  else
    echo "$FAULT_LINE"
    tag=cut-$1-$2-$3
    grep -v DEBUG "$TMP/$tag.err" | tail -15
    grep -v DEBUG "$TMP/$tag-w2.log" | tail -10
    failed+=("$c: $FAULT_WHY")
  fi
done
[ ${#failed[@]} = 0 ] || fail "$(printf '%s; ' "${failed[@]}")"
pass "partitions of w2 (8 s both ways, inbound, outbound; 2 s across a start instant): results kept once, back within a few beats, exit status true"
