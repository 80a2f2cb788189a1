# faults_lib.sh — sourced by the fault tests (after lib.sh) and by
# scripts/fault-matrix.sh: one worker in a network namespace behind a veth
# pair, partitions made with iptables DROP inside that namespace (this
# kernel has no netem), and coordinator stalls made with SIGSTOP/SIGCONT.
# Addresses come from 198.19.N.0/30 (RFC 2544's benchmarking range, the
# half netns-iperf.sh does not use).  Only what this file created is changed;
# fault_down removes it.

FNS= FVETH= FADDR= FHOST=

fault_can() {
  [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces and iptables"
  command -v ip >/dev/null || skip "ip (iproute2) not installed"
  command -v iptables >/dev/null || skip "iptables not installed"
}

# fault_up: the namespace and the veth; sets FNS, FHOST (our side's
# address, where the coordinator binds) and FADDR (the namespace's).
fault_up() {
  local n try
  for try in 1 2 3 4 5 6; do
    n=$(( (RANDOM + $$) % 250 + 1 ))
    FNS=lsf-$$-$try FVETH=lsf$$x$try
    ip -o -4 addr show | grep -q " 198\.19\.$n\.[12]/" && continue
    ip netns add "$FNS" 2>/dev/null || continue
    if ip link add "${FVETH}h" type veth peer name "${FVETH}n" 2>/dev/null &&
       ip link set "${FVETH}n" netns "$FNS" &&
       ip addr add "198.19.$n.1/30" dev "${FVETH}h" &&
       ip link set "${FVETH}h" up &&
       ip -n "$FNS" addr add "198.19.$n.2/30" dev "${FVETH}n" &&
       ip -n "$FNS" link set "${FVETH}n" up &&
       ip -n "$FNS" link set lo up &&
       ip netns exec "$FNS" iptables -L -n >/dev/null 2>&1; then
      FHOST=198.19.$n.1 FADDR=198.19.$n.2
      return 0
    fi
    fault_down
  done
  return 1
}

fault_down() {
  [ -n "$FVETH" ] && ip link del "${FVETH}h" 2>/dev/null
  [ -n "$FNS" ] && ip netns del "$FNS" 2>/dev/null
  FNS= FVETH=
}

# fault_cut in|out|both: drop the namespace's packets on its veth (inbound:
# what reaches it; outbound: what it sends).  fault_heal: allow them again.
fault_cut() {
  case $1 in
    in | both) ip netns exec "$FNS" iptables -I INPUT -i "${FVETH}n" -j DROP ;;
  esac
  case $1 in
    out | both) ip netns exec "$FNS" iptables -I OUTPUT -o "${FVETH}n" -j DROP ;;
  esac
}
fault_heal() {
  ip netns exec "$FNS" iptables -F INPUT
  ip netns exec "$FNS" iptables -F OUTPUT
}

# Run a command in the namespace (the worker that gets cut off).
in_ns() { ip netns exec "$FNS" "$@"; }
