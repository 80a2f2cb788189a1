# test_net_public.sh — "is the bottleneck my platform or my uplink?" from
# every platform in one run: a simulated public iperf3 server in a network
# namespace behind a 100 Mbit/s tbf-shaped link (scripts/netns-iperf.sh),
# measured from native and — when this machine has them — docker and qemu
# (they reach the namespace through the host's routing: the bridge's NAT,
# QEMU's user networking), beside a local native server.  The stored public
# figures are the link's, and `lockstep report`'s local-vs-public section
# names the link, not the platforms, as the bottleneck.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v iperf3 >/dev/null || skip "iperf3 not installed (it plays the public server)"
"$BIN/lockstep" list iperf >/dev/null 2>&1 || skip "built without libiperf"
NETNS=$SRC/scripts/netns-iperf.sh
NS=lspp$$
trap 'bash "$NETNS" down "$NS" >/dev/null 2>&1; cleanup' EXIT
for n in "" $((RANDOM % 250 + 1)) $((RANDOM % 250 + 1)); do
  ADDR=$(NETNS_IPERF_NET=$n bash "$NETNS" up "$NS" 100mbit 0 5201-5203 2>"$TMP/ns.err") && break
done
[ -n "$ADDR" ] || { cat "$TMP/ns.err"; skip "cannot create the network namespace here"; }

PLATS="  - {name: native, kind: native}"
WANT=native
why=$(docker_missing)
if [ -z "$why" ]; then PLATS="$PLATS
  - {name: docker, kind: docker}"; WANT="$WANT docker"; else echo "note: no docker ($why)"; fi
why=$(qemu_missing)
if [ -z "$why" ]; then PLATS="$PLATS
  - {name: qemu, kind: qemu, disk: 256M}"; WANT="$WANT qemu"; else echo "note: no qemu ($why)"; fi
cat >"$TMP/pub.yaml" <<EOF
name: public-from-platforms
platforms:
  - {name: server, kind: native, role: server}
$PLATS
schedule: round-robin
repetitions: 1
start_delay: 200ms
grace: 20s
phases:
  - name: uplink-local
    bench: iperf
    servers: [server]
    params: {streams: 5, time: 2s}
  - name: uplink-public
    bench: iperf
    targets: ["$ADDR:5201-5203"]
    params: {streams: 5, time: 3s}
EOF
DB=$TMP/pub.db
t0=$SECONDS
"$LOCKSTEP" run "$TMP/pub.yaml" --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
[ $rc -eq 0 ] || { grep -E "WARN|ERROR" "$TMP/err" | tail -30; fail "exit status $rc, expected 0"; }
assert_nothing_left "$KEY"
val() { sql "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
             WHERE p.name='$1' AND r.worker='$2' AND r.metric='received_Mbps' AND r.status='ok'"; }
det() { sql "SELECT value FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
             WHERE p.name='$1' AND d.worker='$2' AND d.key='$3'"; }
"$LOCKSTEP" report --db "$DB" >"$TMP/report" 2>&1 || { cat "$TMP/report"; fail "report"; }
sed -n '/local vs public/,/^$/p' "$TMP/report"
for w in $WANT; do
  loc=$(val uplink-local $w) pub=$(val uplink-public $w)
  [ -n "$loc" ] && [ -n "$pub" ] || fail "$w: local '$loc', public '$pub'"
  # the shaped link: at most tbf's goodput ceiling 100 * 1448/1514 = 95.6 (+2%)
  python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 30 <= v <= 97.6 else 1)" "$pub" ||
    fail "$w: public $pub Mbit/s is not that of the 100 Mbit/s link"
  expect_eq "$(det uplink-public $w target)" "$ADDR:5201" "$w: public target"
  expect_eq "$(det uplink-public $w remote_host)" "$ADDR" "$w: remote host iperf3 used"
  [ -n "$(det uplink-public $w rtt_mean_ms)" ] || fail "$w: no RTT stored"
  echo "$w: local $loc, public $pub Mbit/s (rtt $(det uplink-public $w rtt_mean_ms) ms, cpu $(det uplink-public $w cpu_local_pct)%)"
done
# Every platform row of the section blames the path beyond the host, and so
# does the summary.  (The rows are the report's platform groups: on a host
# that is itself a container, the native worker detects docker and is
# grouped there — report grouping is the report's business.)
rows=$(sed -n '/^local vs public/,/^$/p' "$TMP/report" | awk 'NR > 2 && /^  [a-z]/ && !/^  Every|^  [0-9]/')
[ -n "$rows" ] || fail "no local-vs-public rows in the report"
while read -r line; do
  [[ "$line" == *"beyond the host"* ]] || fail "report row does not name the link: $line"
done <<<"$rows"
grep -q "the bottleneck lies outside the host" "$TMP/report" || fail "the summary does not name the link"
pass "public server behind 100 Mbit/s from $WANT: the link is the bottleneck; $((SECONDS - t0)) s"
