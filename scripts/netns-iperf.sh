#!/bin/bash
# netns-iperf.sh — a stand-in for a public iperf3 server (bouygues.iperf.fr
# and the like) that tests can reach without leaving the machine: iperf3
# servers in a network namespace behind a veth pair whose client->server
# direction is rate-limited and delayed with tc.
#
#   netns-iperf.sh up NAME RATE DELAY [PORTS]   e.g. up pub1 100mbit 10ms 5201,5202
#   netns-iperf.sh down NAME
#   netns-iperf.sh status NAME
#
# `up` prints the servers' address on stdout (everything else goes to stderr).
# Addresses come from 198.18.0.0/15, the benchmarking range (RFC 2544) that
# no real network uses: 198.18.N.1/30 on the host side, 198.18.N.2/30 in the
# namespace, N (1..250) derived from NAME, or NETNS_IPERF_NET=N to choose.
# Only the namespace, the veth pair and the iperf3 servers this script
# created are ever changed; state is kept in /run/lockstep-netns-iperf/NAME.
#
# Shaping: traffic INTO the namespace (the uplink a client measures) leaves
# the host side of the veth through tbf at RATE, then netem delay DELAY.
# Replies (ACKs) get the same DELAY and no rate limit, so the round trip is
# 2 x DELAY.  A kernel without netem (CONFIG_NET_SCH_NETEM; only tbf, htb and
# fifo here) cannot delay: the link is then shaped to RATE only, with a
# warning, and `status` says "delay not emulated"; NETNS_IPERF_STRICT=1 makes
# that an error (exit 4) instead.  LOSS (e.g. 1%, 0.5%) drops that share of
# the TCP and UDP packets arriving in the namespace at random (iptables -m
# statistic, inside the namespace).  `partition NAME on` drops every packet
# arriving in the namespace (a dead server: connections time out), `on
# PORTS` only those to PORTS (servers that drop packets beside ones that
# work); `off` lifts it.  All rules live in the namespace's own iptables
# chain LSIPF and go with it.  tbf counts each packet from its Ethernet header on (14 + 20 +
# 32 header bytes per 1448-byte TCP payload at MTU 1500 with timestamps), so
# iperf3's goodput tops out at RATE x 1448/1514 (95.6 Mbit/s at 100mbit).
set -euo pipefail

STATE_ROOT=/run/lockstep-netns-iperf

die() { echo "netns-iperf: $*" >&2; exit 1; }
say() { echo "netns-iperf: $*" >&2; }

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_tools() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces and tc need CAP_NET_ADMIN)"
  command -v ip >/dev/null || die "'ip' not found (install iproute2)"
  command -v tc >/dev/null || die "'tc' not found (install iproute2)"
}

check_name() {
  [[ "$1" =~ ^[A-Za-z0-9_.-]{1,40}$ ]] ||
    die "NAME '$1': use 1..40 letters, digits, '.', '_' or '-'"
}

# The /30 index for NAME: NETNS_IPERF_NET, else a hash of the name.
net_for() {
  local n
  if [ -n "${NETNS_IPERF_NET:-}" ]; then
    n=$NETNS_IPERF_NET
    if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then
      die "NETNS_IPERF_NET='$n': expected 1..250"
    fi
  else
    n=$(( $(printf '%s' "$1" | cksum | cut -d' ' -f1) % 250 + 1 ))
  fi
  echo "$n"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }
# whose namespace NAME is: 0 made by this script (its state is here),
# 1 a namespace someone else made, 2 none
owner() {
  check_name "$1"
  need_tools
  [ -f "$STATE_ROOT/$1/net" ] && return 0
  ns_exists "$1" && return 1
  return 2
}

# The interface that holds IPv4 address ADDR, if any.
addr_owner() { ip -o -4 addr show 2>/dev/null | awk -v a="$1" 'index($4, a "/") == 1 {print $2; exit}'; }

# "5201,5202" or "5201-5203" or a mix -> one port a line.
expand_ports() {
  local part a b p
  IFS=',' read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
      a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
    elif [[ "$part" =~ ^[0-9]+$ ]]; then
      a=$part b=$part
    else
      die "PORTS '$1': expected ports like 5201,5202 or 5201-5204"
    fi
    if [ "$a" -lt 1 ] || [ "$b" -gt 65535 ] || [ "$a" -gt "$b" ] || [ $((b - a)) -ge 64 ]; then
      die "PORTS '$1': each range must lie in 1..65535 and hold at most 64 ports"
    fi
    for ((p = a; p <= b; p++)); do echo "$p"; done
  done
}

# Is the iperf3 server recorded in PIDFILE alive (and really an iperf3)?
server_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = iperf3 ]
}

# "yes" when a tc time such as 0, 0ms or 0.0s is zero.
zero_time() { awk -v t="$1" 'BEGIN { sub(/(us|ms|s)$/, "", t); print (t + 0 == 0) ? "yes" : "no" }'; }

listening() { ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .; }

# iptables inside namespace NAME, our chain LSIPF hooked into INPUT first.
ns_ipt() { ip netns exec "$1" iptables -w 5 "${@:2}"; }
ns_chain() {
  command -v iptables >/dev/null || die "'iptables' not found (loss and partitions need it)"
  ns_ipt "$1" -nL LSIPF >/dev/null 2>&1 || ns_ipt "$1" -N LSIPF || die "iptables in namespace $1 does not work"
  ns_ipt "$1" -C INPUT -j LSIPF 2>/dev/null || ns_ipt "$1" -I INPUT 1 -j LSIPF
}
# LOSS "1%" / "0.5%" / "0" -> probability "0.01" (empty for none).
loss_prob() {
  [[ "$1" =~ ^([0-9]+(\.[0-9]+)?)%?$ ]] || die "LOSS '$1': expected a percentage such as 1% or 0.5%"
  awk -v p="${BASH_REMATCH[1]}" 'BEGIN { if (p + 0 > 100) exit 1; if (p + 0 > 0) printf "%.6f", p / 100 }' ||
    die "LOSS '$1': at most 100%"
}

cmd_up() {
  if [ $# -lt 3 ] || [ $# -gt 5 ]; then usage; fi
  local name=$1 rate=$2 delay=$3 ports=${4:-5201} loss=${5:-0} prob
  check_name "$name"
  need_tools
  command -v iperf3 >/dev/null || die "'iperf3' not found (install iperf3)"
  [[ "$rate" =~ ^[0-9]+(\.[0-9]+)?([kKmMgG]?bit|[kKmMgG]?bps)$ ]] ||
    die "RATE '$rate': expected a tc rate such as 100mbit or 1gbit"
  [[ "$delay" =~ ^[0-9]+(\.[0-9]+)?(us|ms|s)?$ ]] ||
    die "DELAY '$delay': expected a tc time such as 10ms"
  local plist
  plist=$(expand_ports "$ports")
  prob=$(loss_prob "$loss")
  local state=$STATE_ROOT/$name n
  if [ -f "$state/net" ]; then
    n=$(cat "$state/net")
  else
    n=$(net_for "$name")
  fi
  local host_if=lsipf${n}h ns_if=lsipf${n}n host_ip=198.18.$n.1 ns_ip=198.18.$n.2

  if [ -f "$state/net" ] && { ! ns_exists "$name" || ! ip link show "$host_if" >/dev/null 2>&1; }; then
    say "$name: half made (an earlier up failed, or someone removed a part); rebuilding"
    cmd_down "$name"
  fi
  if ns_exists "$name" && [ ! -f "$state/net" ]; then
    die "namespace '$name' exists but was not made by this script; not touching it"
  fi
  if [ ! -f "$state/net" ]; then
    # Fresh: refuse anything in our way rather than take it over.
    local owner
    owner=$(addr_owner "$host_ip")
    [ -z "$owner" ] || die "$host_ip is already on $owner; set NETNS_IPERF_NET to another 1..250"
    owner=$(addr_owner "$ns_ip")
    [ -z "$owner" ] || die "$ns_ip is already on $owner; set NETNS_IPERF_NET to another 1..250"
    ! ip link show "$host_if" >/dev/null 2>&1 ||
      die "interface $host_if exists (another namespace of this script with the same N?); set NETNS_IPERF_NET"
    if ip -o -4 route show to "198.18.$n.0/30" 2>/dev/null | grep -q .; then
      die "a route to 198.18.$n.0/30 exists already; set NETNS_IPERF_NET to another 1..250"
    fi
    mkdir -p "$state"
    echo "$n" >"$state/net"
    ip netns add "$name" || { rm -rf "$state"; die "cannot create namespace '$name'"; }
    ip link add "$host_if" type veth peer name "$ns_if" netns "$name"
    ip addr add "$host_ip/30" dev "$host_if"
    ip link set "$host_if" up
    ip -n "$name" link set lo up
    ip -n "$name" addr add "$ns_ip/30" dev "$ns_if"
    ip -n "$name" link set "$ns_if" up
  fi
  echo "$rate $delay $loss" >"$state/shape"
  rm -f "$state/nodelay"

  # Into the namespace: tbf at RATE, then netem's delay line.  tbf's queue
  # (latency 100ms) holds several bandwidth-delay products, so TCP fills the
  # link instead of losing packets to a short queue.  replace: idempotent.
  tc qdisc replace dev "$host_if" root handle 1: tbf rate "$rate" burst 64kb latency 100ms
  if [ "$(zero_time "$delay")" = yes ]; then
    tc qdisc del dev "$host_if" parent 1:1 handle 10: 2>/dev/null || true
    ip netns exec "$name" tc qdisc del dev "$ns_if" root 2>/dev/null || true
  elif ! tc qdisc replace dev "$host_if" parent 1:1 handle 10: netem delay "$delay" limit 10000 2>"$state/tc.err" ||
       ! ip netns exec "$name" tc qdisc replace dev "$ns_if" root netem delay "$delay" limit 10000 2>>"$state/tc.err"; then
    local why
    why=$(head -1 "$state/tc.err")
    if [[ "$why" == *"unknown"* || "$why" == *"No such file"* || "$why" == *"not supported"* ]] &&
       [ -z "${NETNS_IPERF_STRICT:-}" ]; then
      # no netem: shape the rate only, and say so (here and in status)
      tc qdisc del dev "$host_if" parent 1:1 handle 10: 2>/dev/null || true
      ip netns exec "$name" tc qdisc del dev "$ns_if" root 2>/dev/null || true
      echo "$delay" >"$state/nodelay"
      say "warning: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): DELAY $delay is not emulated; the link is shaped to $rate only"
    else
      cmd_down "$name" 2>/dev/null
      if [[ "$why" == *"unknown"* || "$why" == *"No such file"* || "$why" == *"not supported"* ]]; then
        echo "netns-iperf: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), so DELAY $delay cannot be emulated; use DELAY 0 for rate-only shaping (NETNS_IPERF_STRICT is set)" >&2
        exit 4
      fi
      die "tc netem delay $delay: $why"
    fi
  fi
  # (Out of the namespace: the same delay, and no rate limit.)

  # Loss into the namespace: the rule is replaced, never stacked.
  ns_ipt "$name" -D LSIPF -m comment --comment lsipf-loss -m statistic --mode random \
    --probability "$(cat "$state/lossprob" 2>/dev/null || echo 1)" -j DROP 2>/dev/null || true
  rm -f "$state/lossprob"
  if [ -n "$prob" ]; then
    ns_chain "$name"
    ns_ipt "$name" -A LSIPF -m comment --comment lsipf-loss -m statistic --mode random \
      --probability "$prob" -j DROP || die "iptables statistic match (loss $loss) failed"
    echo "$prob" >"$state/lossprob"
  fi

  local p started=()
  for p in $plist; do
    if server_alive "$state/iperf-$p.pid"; then
      continue
    fi
    ip netns exec "$name" iperf3 -s -D -p "$p" --pidfile "$state/iperf-$p.pid" ||
      die "iperf3 server on port $p did not start"
    started+=("$p")
  done
  for p in "${started[@]}"; do
    for _ in $(seq 50); do
      listening "$name" "$p" && break
      sleep 0.1
    done
    listening "$name" "$p" || die "iperf3 server on port $p is not listening after 5s"
  done
  local shown=$delay
  [ -f "$state/nodelay" ] && shown="0 (delay $delay not emulated: no netem)"
  say "namespace $name: $ns_ip, ${rate} + ${shown} into it${prob:+, $loss loss}, ${shown} back; iperf3 on $(echo "$plist" | tr '\n' ',' | sed 's/,$//')"
  echo "$ns_ip"
}

cmd_down() {
  [ $# -eq 1 ] || usage
  local name=$1 state=$STATE_ROOT/$1 whose=0
  owner "$name" || whose=$?
  case $whose in
    1) die "namespace '$name' exists but was not made by this script; not touching it" ;;
    2) say "$name: nothing to take down"; return 0 ;;
  esac
  local n host_if f pid
  n=$(cat "$state/net")
  host_if=lsipf${n}h
  for f in "$state"/iperf-*.pid; do
    [ -e "$f" ] || continue
    if server_alive "$f"; then
      pid=$(tr -dc '0-9' <"$f")
      kill "$pid" 2>/dev/null || true
    fi
  done
  if ns_exists "$name"; then
    # Whatever still runs in there (servers that lost their pidfile, a
    # test's stray process) would keep the namespace and its veth alive.
    for pid in $(ip netns pids "$name" 2>/dev/null); do
      kill "$pid" 2>/dev/null || true
    done
    for _ in $(seq 30); do
      [ -z "$(ip netns pids "$name" 2>/dev/null)" ] && break
      sleep 0.1
    done
    for pid in $(ip netns pids "$name" 2>/dev/null); do
      kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "$name"
  fi
  # The pair goes with the namespace; delete the host side if it lingers.
  if ip link show "$host_if" >/dev/null 2>&1; then
    ip link del "$host_if" 2>/dev/null || true
  fi
  rm -rf "$state"
  say "$name: down"
}

cmd_partition() {
  if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
  local name=$1 how=$2 ports=${3:-} state=$STATE_ROOT/$1 p
  check_name "$name"
  need_tools
  [ -f "$state/net" ] || die "$name is not up"
  ns_chain "$name"
  case "$how" in
    on)
      if [ -z "$ports" ]; then
        ns_ipt "$name" -C LSIPF -m comment --comment lsipf-part -j DROP 2>/dev/null ||
          ns_ipt "$name" -I LSIPF 1 -m comment --comment lsipf-part -j DROP
        say "$name: partitioned (everything into it is dropped)"
      else
        for p in $(expand_ports "$ports"); do
          for proto in tcp udp; do
            ns_ipt "$name" -C LSIPF -p $proto --dport "$p" -m comment --comment lsipf-part -j DROP 2>/dev/null ||
              ns_ipt "$name" -I LSIPF 1 -p $proto --dport "$p" -m comment --comment lsipf-part -j DROP
          done
        done
        say "$name: packets to ports $ports dropped"
      fi ;;
    off)
      # every partition rule, whatever it was for; loss stays
      while read -r num; do
        ns_ipt "$name" -D LSIPF "$num"
      done < <(ns_ipt "$name" -nL LSIPF --line-numbers | awk '/lsipf-part/ {print $1}' | sort -rn)
      say "$name: partition lifted" ;;
    *) die "partition: '$how' is neither on nor off" ;;
  esac
}

cmd_status() {
  [ $# -eq 1 ] || usage
  local name=$1 state=$STATE_ROOT/$1 whose=0
  owner "$name" || whose=$?
  case $whose in
    1) echo "$name: a namespace not made by this script"; return 3 ;;
    2) echo "$name: down"; return 3 ;;
  esac
  local n f p
  n=$(cat "$state/net")
  echo "$name: up, server address 198.18.$n.2, host side 198.18.$n.1 on lsipf${n}h"
  echo "shape (rate delay loss): $(cat "$state/shape" 2>/dev/null)"
  [ -f "$state/nodelay" ] && echo "delay not emulated (this kernel has no netem)"
  ip netns exec "$name" iptables -w 5 -nL LSIPF 2>/dev/null | awk 'NR > 2' | sed 's/^/rule: /' || true
  ns_exists "$name" || echo "warning: state says up but the namespace is gone"
  for f in "$state"/iperf-*.pid; do
    [ -e "$f" ] || continue
    p=${f##*/iperf-}
    p=${p%.pid}
    if server_alive "$f"; then
      echo "iperf3 :$p pid $(tr -dc '0-9' <"$f") $(listening "$name" "$p" && echo listening || echo 'not listening')"
    else
      echo "iperf3 :$p not running"
    fi
  done
  tc qdisc show dev "lsipf${n}h" 2>/dev/null | sed 's/^/into: /'
  ip netns exec "$name" tc qdisc show dev "lsipf${n}n" 2>/dev/null | sed 's/^/back: /'
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  partition) cmd_partition "$@" ;;
  -h|--help|help) usage ;;
  *) echo "netns-iperf: unknown command '$cmd'" >&2; usage ;;
esac
