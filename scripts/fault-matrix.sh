#!/bin/bash
# fault-matrix.sh — the whole fault matrix of issue 15, with a summary table
# (the CTest tests test_fault_stall and test_fault_partition run a
# representative part of it on every change).
#
#   scripts/fault-matrix.sh [BIN_DIR] [FILTER]
#
# BIN_DIR: where lockstep and lockstep-worker are (default build/bin);
# FILTER: an extended regular expression that a case ("stop mid 10 -",
# "cut start 8 in") must match to be run.  Needs root (network namespaces,
# iptables).  Each case is one run of tests/integration/data/faults.yaml
# with w1 beside the coordinator and w2 in a network namespace, and one
# fault (faults_lib.sh says what each place is and what is checked):
#   - the coordinator SIGSTOPped 2, 10, 30 s in admission, in the barrier,
#     mid-phase, between phases;
#   - w2 cut off 2, 8, 30 s, both ways, only inbound, only outbound, in the
#     same places and across a repetition's start instant.
# Prints one line per case, then a markdown table for docs/guarantees.md;
# exits 1 when a case failed.  About 40 minutes on two cores.
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN_DIR=$(cd "${1:-$SRC/build/bin}" && pwd)
FILTER=${2:-.}
set -- "$BIN_DIR" "$SRC"
. "$SRC/tests/integration/lib.sh"
. "$SRC/tests/integration/faults_lib.sh"
fault_can
fault_up || skip "cannot create a network namespace and a veth pair here"
trap 'fault_down; cleanup' EXIT

cases=()
for where in admission barrier mid between; do
  for secs in 2 10 30; do cases+=("stop $where $secs -"); done
done
for where in admission barrier start mid between; do
  for secs in 2 8 30; do
    for dir in both in out; do cases+=("cut $where $secs $dir"); done
  done
done

lines=() nfail=0 n=0
for c in "${cases[@]}"; do
  [[ "$c" =~ $FILTER ]] || continue
  set -- $c
  n=$((n + 1))
  # a 30 s fault in a run that outlasts it, so that w2 comes back to
  # repetitions still to run (12 + 2 of about 3 s)
  if [ "$3" -ge 30 ]; then FAULT_REPS=12; else FAULT_REPS=4; fi
  if fault_run "$1" "$2" "$3" "$4"; then :; else
    nfail=$((nfail + 1))
    [ -z "$FAULT_LINE" ] && FAULT_LINE="$c | FAIL: $FAULT_WHY"
  fi
  echo "$FAULT_LINE"
  lines+=("$FAULT_LINE")
  # the next case starts from a clean slate
  fault_heal 2>/dev/null
done

echo
echo "| fault | where | length | direction | exit | run | w2 results ok | w2 lost | w2 back after the fault | checks |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for l in "${lines[@]}"; do
  # "cut   mid         8s both | exit 3 partial  | w2 3/6 ok | w2 lost yes back    729 ms | ok"
  awk -F'|' '{
    split($1, a, " "); split($2, b, " "); split($3, c, " "); split($4, d, " ");
    kind = a[1] == "stop" ? "coordinator SIGSTOP" : "w2 partition";
    back = d[5] == "-" ? "-" : d[5] " ms";
    sub(/^ +/, "", $5);
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", kind, a[2], a[3], a[4], b[2], b[3],
      c[2], d[3], back, $5
  }' <<<"$l"
done
echo
echo "$((n - nfail)) of $n cases held every check ($(date -u +%Y-%m-%d))"
[ $nfail = 0 ]
