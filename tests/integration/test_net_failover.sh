# test_net_failover.sh — issue 14's failure paths of network phases, each
# ending in a stored result instead of a lost worker or a failed run:
#   A. three targets that drop packets, then one that works -> ok, the three
#      attempts stored
#   B. a server that accepts and never answers, then a working one -> ok
#   C. a busy server that becomes free -> ok on it, after busy retries
#   D. round-robin with two local servers -> both serve, pairs rotate
#   E. a client that fails -> its server is stopped and released (not lost)
#      and serves its next client
# Public targets are iperf3 servers in a network namespace
# (scripts/netns-iperf.sh); E's failing client runs in a second namespace
# whose iptables refuse everything but the coordinator's ports.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v iperf3 >/dev/null || skip "iperf3 not installed (it plays the public servers)"
command -v iptables >/dev/null || skip "iptables not installed"
command -v python3 >/dev/null || skip "python3 not installed (it plays a silent server)"
"$BIN/lockstep" list iperf >/dev/null 2>&1 || skip "built without libiperf"
NETNS=$SRC/scripts/netns-iperf.sh
NS=lsfo$$ NSC=lsfc$$
ns_down() { bash "$NETNS" down "$NS" >/dev/null 2>&1; bash "$NETNS" down "$NSC" >/dev/null 2>&1; }
trap 'ns_down; cleanup' EXIT

up() { # NAME PORTS -> address
  local a
  for n in "" $((RANDOM % 250 + 1)) $((RANDOM % 250 + 1)); do
    a=$(NETNS_IPERF_NET=$n bash "$NETNS" up "$1" 1gbit 0 "$2" 2>"$TMP/up.err") && { echo "$a"; return 0; }
  done
  cat "$TMP/up.err" >&2
  return 1
}
ADDR=$(up "$NS" 5201,5202,5301-5303) || skip "cannot create a network namespace here"
bash "$NETNS" partition "$NS" on 5301-5303 2>/dev/null || fail "partition of 5301-5303"
# B's silent server: accepts (the kernel completes the handshake) and never
# says a word; it lives in the namespace and goes with it
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5401)); s.listen(16); time.sleep(120)' &
PIDS+=($!)
wait_for 10 bash -c "ip netns exec '$NS' ss -Hltn 'sport = :5401' | grep -q ." || fail "silent server not listening"

cat >"$TMP/fo.yaml" <<EOF
name: failover
schedule: round-robin
repetitions: 1
start_delay: 1s
grace: 5s
phases:
  - name: dropping
    bench: iperf
    workers: [local-0]
    targets: ["$ADDR:5301-5303", "$ADDR:5201"]
    params: {time: 2s, streams: 1, connect_timeout: 1s, busy_retry: 0}
  - name: silent
    bench: iperf
    workers: [local-0]
    targets: ["$ADDR:5401", "$ADDR:5201"]
    params: {time: 2s, streams: 1, connect_timeout: 1s}
  - name: busy
    bench: iperf
    workers: [local-0]
    targets: ["$ADDR:5202"]
    params: {time: 2s, streams: 1, connect_timeout: 1s, busy_retry: 15s}
  - name: two-servers
    bench: iperf
    repetitions: 2
    servers: [local-0, local-1]
    params: {time: 1s, streams: 1}
  - name: two-at-once
    bench: iperf
    schedule: lockstep
    servers: [local-0, local-1]
    params: {time: 1s, streams: 1}
EOF
"$LOCKSTEP" validate "$TMP/fo.yaml" >/dev/null || fail "test experiment invalid"
DB=$TMP/fo.db
# C: a plain iperf3 client holds 5202 for the busy phase's first seconds
# (started when that phase begins: the coordinator's log says so)
"$LOCKSTEP" run "$TMP/fo.yaml" --local 4 --db "$DB" -v >"$TMP/out" 2>"$TMP/err" &
coord=$!
PIDS+=($coord)
wait_for 90 grep -q "phase 3/5 busy" "$TMP/err" || { tail -20 "$TMP/err"; fail "phase busy never began"; }
timeout 20 iperf3 -c "$ADDR" -p 5202 -t 4 -b 1M >/dev/null 2>&1 &
holder=$!
wait "$coord"
rc=$?
wait "$holder" 2>/dev/null
cat "$TMP/out"
[ $rc -eq 0 ] || { grep -E "WARN|ERROR" "$TMP/err" | tail -20; fail "run exit status $rc (expected complete)"; }

d() { # PHASE WORKER KEY [REP]
  sql "SELECT d.value FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
       WHERE p.name='$1' AND d.worker='$2' AND d.key='$3' AND d.rep=${4:-1}"
}
st() { sql "SELECT r.status FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
            WHERE p.name='$1' AND r.worker='$2' AND r.metric='received_Mbps' AND r.rep=${3:-1}"; }
took() { sql "SELECT printf('%.1f', (finished_at - started_at) / 1e9) FROM results r JOIN phases p
              ON p.run=r.run AND p.idx=r.phase WHERE p.name='$1' AND r.worker='$2'
              AND r.metric='received_Mbps' LIMIT 1"; }
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status!='ok'")" 0 "rows not ok"
expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE lost_at IS NOT NULL")" 0 "lost workers"

# A: three dropping targets, each timed out after connect_timeout, then 5201
expect_eq "$(st dropping local-0)" ok "A: status"
expect_eq "$(d dropping local-0 target)" "$ADDR:5201" "A: target"
for i in 1 2 3; do
  a=$(d dropping local-0 attempt.$i)
  [[ "$a" == "$ADDR:530$i: timed out"* ]] || fail "A: attempt.$i is '$a'"
done
expect_eq "$(sql "SELECT value FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
  WHERE p.name='dropping' AND metric='attempts'")" 4.0 "A: attempts"
echo "A: three dropping targets then ok in $(took dropping local-0) s"

# B: the silent server is given up at its attempt's bound, then 5201
expect_eq "$(st silent local-0)" ok "B: status"
expect_eq "$(d silent local-0 target)" "$ADDR:5201" "B: target"
a=$(d silent local-0 attempt.1)
[[ "$a" == "$ADDR:5401: "* ]] || fail "B: attempt.1 is '$a'"
echo "B: silent server ($a) then ok in $(took silent local-0) s"

# C: busy at first, retried, then measured on the same server
expect_eq "$(st busy local-0)" ok "C: status"
expect_eq "$(d busy local-0 target)" "$ADDR:5202" "C: target"
br=$(d busy local-0 busy_retries)
[[ "$br" =~ ^[1-9][0-9]*\ in ]] || fail "C: busy_retries is '$br' (the holder had the server)"
echo "C: busy server free after $br, ok in $(took busy local-0) s"

# D: round-robin, two servers: both serve in every repetition, pairs rotate
for rep in 1 2; do
  srvs=$(sql "SELECT group_concat(value) FROM (SELECT d.value FROM result_details d JOIN phases p
    ON p.run=d.run AND p.idx=d.phase WHERE p.name='two-servers' AND d.key='server.worker'
    AND d.rep=$rep ORDER BY d.value)")
  expect_eq "$srvs" "local-0,local-1" "D: servers of rep $rep"
done
[ "$(d two-servers local-2 server.worker 1)" != "$(d two-servers local-2 server.worker 2)" ] ||
  fail "D: local-2 had the same server in both repetitions"
expect_eq "$(sql "SELECT COUNT(*) FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
  WHERE p.name='two-servers' AND key='shared_host'")" 0 "D: round-robin pairs never share the host"
# ... and under lockstep the two pairs run at once on this host: said and stored
sh=$(d two-at-once local-2 shared_host)
[[ "$sh" == "local-3->local-"[01]" on the coordinator's host" ]] || fail "D: local-2's shared_host is '$sh'"
[ -n "$(d two-at-once local-3 shared_host)" ] || fail "D: no shared_host on local-3"
grep -q "two-at-once rep 1: local-2 measured at the same time as" "$TMP/err" || fail "D: no warning"


# E: a client that fails does not take its server down.  The coordinator
# listens on the host side of a second namespace's veth; srv and c2 run on
# the host and reach it there (so srv counts as on the coordinator's host),
# c1 runs in the namespace, where everything but the coordinator's ports is
# refused: its iperf client fails; srv is stopped and serves c2.
CADDR=$(up "$NSC" 5299) || fail "second namespace"
HOSTSIDE=${CADDR%.2}.1
PORT=$(free_port)
ip netns exec "$NSC" iptables -A OUTPUT -p tcp -d "$HOSTSIDE" --dport "$PORT:$((PORT + 1))" -j ACCEPT
ip netns exec "$NSC" iptables -A OUTPUT -p tcp -j REJECT --reject-with tcp-reset
cat >"$TMP/e.yaml" <<EOF
name: failed-client
schedule: lockstep
repetitions: 1
start_delay: 200ms
grace: 5s
phases:
  - name: uplink
    bench: iperf
    servers: [srv]
    params: {time: 2s, streams: 1, connect_timeout: 1s}
EOF
DB=$TMP/e.db
EP=tcp://$HOSTSIDE:$PORT
"$LOCKSTEP" run "$TMP/e.yaml" --bind "$EP" --insecure --expect srv,c1,c2 --db "$DB" -v \
  >"$TMP/e.out" 2>"$TMP/e.err" &
coord=$!
PIDS+=($coord)
wait_for 10 bash -c "ss -Hltn 'sport = :$PORT' | grep -q ." || fail "E: coordinator not listening"
for w in srv c2; do
  "$WORKER" --connect "$EP" --name $w --spool "$TMP/$w" >"$TMP/$w.log" 2>&1 &
  PIDS+=($!)
done
ip netns exec "$NSC" "$WORKER" --connect "$EP" --name c1 --spool "$TMP/c1" >"$TMP/c1.log" 2>&1 &
PIDS+=($!)
t0=$SECONDS
wait "$coord"
rc=$?
elapsed=$((SECONDS - t0))
cat "$TMP/e.out"
expect_eq "$rc" 3 "E: exit status (partial: one client failed)"
expect_eq "$(st uplink c1)" failed "E: the failing client's row"
expect_eq "$(st uplink c2)" ok "E: the next client's row"
expect_eq "$(d uplink c2 server.worker)" srv "E: srv served c2"
expect_eq "$(d uplink c2 target)" "$HOSTSIDE:$(d uplink c2 server.port)" "E: c2 reached srv at its own route"
expect_eq "$(sql "SELECT COUNT(*) FROM results WHERE status='lost' OR worker='srv'")" 0 "E: rows lost or under srv"
expect_eq "$(sql "SELECT COUNT(*) FROM workers WHERE lost_at IS NOT NULL")" 0 "E: lost workers"
grep -q "srv: its client c1 has reported; stopping it" "$TMP/e.err" || fail "E: srv was not stopped"
[ "$elapsed" -lt 40 ] || fail "E: took $elapsed s"
echo "E: c1 failed ($(sql "SELECT error FROM results WHERE worker='c1' LIMIT 1")), srv released and served c2; $elapsed s in all"
pass "failover: dropping, silent and busy targets, two servers rotating, a failed client's server released"
