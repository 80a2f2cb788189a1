# test_platform_uplink.sh — iperf uplink from every launched platform to a
# native server on this host (issue 14): the server is a `platforms:` entry
# with role: server (not measured, no part in other phases); each client is
# sent to it at its own route to the coordinator's host — 127.0.0.1 natively,
# the bridge gateway from the container, 10.0.2.2 from the QEMU guest — so
# native, docker and qemu all measure.  A VM serves too: the host forwards a
# port of its own into the guest (QEMU hostfwd, tcp and udp), and native and
# docker clients reach it at their route to the host and that port.
# Nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/platforms.sh"
why=$(docker_missing); [ -z "$why" ] || skip "$why"
why=$(qemu_missing); [ -z "$why" ] || skip "$why"
"$BIN/lockstep" list iperf >/dev/null 2>&1 || skip "built without libiperf"

cat >"$TMP/up.yaml" <<'EOF'
name: platform-uplink
platforms:
  - {name: server, kind: native, role: server}
  - {name: native, kind: native}
  - {name: docker, kind: docker}
  - {name: qemu, kind: qemu, disk: 256M}
schedule: round-robin
repetitions: 1
start_delay: 200ms
grace: 20s
phases:
  - name: hello
    bench: null
  - name: uplink
    bench: iperf
    servers: [server]
    params: {streams: 2, time: 2s}
  - name: to-vm
    bench: iperf
    servers: [qemu]
    params: {streams: 2, time: 2s}
EOF
DB=$TMP/up.db
t0=$SECONDS
"$LOCKSTEP" run "$TMP/up.yaml" --db "$DB" --require-all >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
KEY=$(run_key_hex)
[ $rc -eq 0 ] || { grep -E "WARN|ERROR" "$TMP/err" | tail -30; fail "exit status $rc, expected 0"; }
assert_nothing_left "$KEY"
# the server takes no part in other phases and has no rows of its own
expect_eq "$(sql "SELECT group_concat(worker) FROM (SELECT worker FROM results ORDER BY worker)" | tr ',' '\n' | sort -u | tr '\n' ' ')" \
  "docker native qemu " "workers with rows"
mbps() { sql "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
              WHERE p.name='uplink' AND r.worker='$1' AND r.metric='received_Mbps' AND r.status='ok'"; }
det() { sql "SELECT value FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
             WHERE p.name='uplink' AND d.worker='$1' AND d.key='$2'"; }
gw=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null)
for w in native docker qemu; do
  v=$(mbps $w)
  [ -n "$v" ] || fail "$w: no ok uplink row"
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$v" || fail "$w: $v Mbit/s"
  expect_eq "$(det $w server.worker)" server "$w: served by"
  target=$(det $w target)
  case $w in
    native) want=127.0.0.1 ;;
    docker) want=${gw:-172.17.0.1} ;;
    qemu) want=10.0.2.2 ;;
  esac
  [[ "$target" == "$want:"* ]] || fail "$w reached the server at '$target', expected $want:PORT"
  echo "$w: $v Mbit/s to $target (rtt mean $(det $w rtt_mean_ms) ms, cpu $(det $w cpu_local_pct)%)"
done
# the VM served native and docker through its port forward
fwd=$(sql "SELECT network FROM platforms WHERE name='qemu'" | sed -n 's/.*host port \([0-9]*\) forwarded.*/\1/p')
[ -n "$fwd" ] || fail "qemu's conditions do not name its forwarded port"
for w in native docker; do
  v=$(sql "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
           WHERE p.name='to-vm' AND r.worker='$w' AND r.metric='received_Mbps' AND r.status='ok'")
  [ -n "$v" ] || fail "$w: no ok row against the VM server"
  t=$(sql "SELECT value FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
           WHERE p.name='to-vm' AND d.worker='$w' AND d.key='target'")
  [[ "$t" == *":$fwd" ]] || fail "$w reached the VM at '$t', expected the forwarded port $fwd"
  expect_eq "$(sql "SELECT value FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
           WHERE p.name='to-vm' AND d.worker='$w' AND d.key='server.worker'")" qemu "$w: served by the VM"
  echo "$w -> qemu server: $v Mbit/s at $t"
done
pass "uplink from native $(mbps native), docker $(mbps docker), qemu $(mbps qemu) Mbit/s to a native server; $((SECONDS - t0)) s"
