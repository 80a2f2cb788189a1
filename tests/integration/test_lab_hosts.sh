# Lab machines as first-class citizens: a coordinator (CURVE, on a lab
# address) and two hosts in network namespaces with host names of their own
# (h1, h2), labels (room=...) and keys; both are native, so by platform they
# are one row — the report and the export group them by worker, by host or
# by label instead, an expectation compares the two hosts by name, and the
# systems table lists each host's facts.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
command -v unshare >/dev/null || skip "unshare (util-linux) not installed"
NS=lh$$
cleanup_ns() {
  for h in 1 2; do ip netns del "$NS-h$h" 2>/dev/null; ip link del "$NS-v$h" 2>/dev/null; done
}
trap 'cleanup_ns; cleanup' EXIT
for h in 1 2; do
  ip netns add "$NS-h$h" && ip link add "$NS-v$h" type veth peer name eth0 netns "$NS-h$h" ||
    skip "cannot create network namespaces here"
  ip addr add "198.18.71.$((h * 4 - 3))/30" dev "$NS-v$h"; ip link set "$NS-v$h" up
  ip -n "$NS-h$h" addr add "198.18.71.$((h * 4 - 2))/30" dev eth0
  ip -n "$NS-h$h" link set eth0 up; ip -n "$NS-h$h" link set lo up
done
K=$TMP/keys
"$LOCKSTEP" keygen "$K" --workers a,b >/dev/null || fail "keygen"
PORT=$(free_port)
DB=$TMP/h.db
"$LOCKSTEP" run "$SRC/tests/integration/data/hosts.yaml" --bind "tcp://*:$PORT" --keys "$K" \
  --timeout 30 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
C=$!; PIDS+=($C)
# each host: its own network namespace and host name, its key and labels;
# a lab machine declares itself native (this test host may carry container marks)
host() { # h name room
  ip netns exec "$NS-h$1" unshare --uts sh -c "hostname h$1 && exec \"\$0\" \"\$@\"" \
    "$WORKER" --connect "tcp://198.18.71.$(($1 * 4 - 3)):$PORT" --name "$2" --spool "$TMP/s$2" \
    --cert "$K/workers/$2.cert_secret" --server-cert "$K/coordinator.cert" --label "room=$3" \
    --label lab=ours --platform native 2>"$TMP/w$2" &
  PIDS+=($!)
}
host 1 a B12
host 2 b C3
wait $C; rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "run: exit $rc"; }
expect_eq "$(sql "SELECT group_concat(name || ':' || hostname || ':' || platform) FROM (SELECT * FROM workers ORDER BY name)")" \
  "a:h1:native,b:h2:native" "workers, hosts, platforms"
expect_eq "$(sql "SELECT group_concat(worker || ' ' || key || '=' || value, ', ') FROM (SELECT * FROM worker_labels ORDER BY worker, key)")" \
  "a lab=ours, a room=B12, b lab=ours, b room=C3" "labels stored"
# declared native; what each detected itself (this host may be a container) is kept beside
det=$("$WORKER" --detect | awk '/^platform/ {print $2; exit}')
expect_eq "$(sql "SELECT group_concat(DISTINCT detected) FROM workers")" "$det" "detected platform"

# by platform (the default) the two hosts are one row ...
"$LOCKSTEP" report --db "$DB" >"$TMP/r0" 2>&1 || { cat "$TMP/r0"; fail "report"; }
grep -qE "^  native +4 " "$TMP/r0" || { cat "$TMP/r0"; fail "by platform: one native row of 4"; }
# ... by host they are two, the expectation names them, the systems table lists them
"$LOCKSTEP" report --db "$DB" --by host --baseline h1 -x "cpu: h2 > 0.2 * h1" --out "$TMP/rep" \
  >"$TMP/r1" 2>&1 || { cat "$TMP/r1"; fail "report --by host"; }
cat "$TMP/r1"
for h in h1 h2; do grep -qE "^  $h +2 " "$TMP/r1" || fail "by host: no row of 2 for $h"; done
grep -qE "^  host +n " "$TMP/r1" || fail "by host: the table does not say host"
grep -qE "confirmed +cpu: h1 > 0.2 (×|\*) h2" "$TMP/r1" || fail "the file's expectation over hosts"
grep -qE "confirmed +cpu: h2 > 0.2 (×|\*) h1" "$TMP/r1" || fail "the command line's expectation over hosts"
grep -qE "^  a \(host h1\): host h1, .* x [0-9]+, .*labels lab=ours, room=B12$" "$TMP/r1" || fail "systems: a"
grep -qE "^  b \(host h2\): host h2, .*labels lab=ours, room=C3$" "$TMP/r1" || fail "systems: b"
grep -q "^## Systems" "$TMP/rep/report.md" || fail "report.md has no systems table"
grep -q 'id="systems"' "$TMP/rep/report.html" || fail "report.html has no systems table"
# by worker and by label
"$LOCKSTEP" report --db "$DB" --by worker --baseline a >"$TMP/r2" 2>&1 || fail "report --by worker"
for w in a b; do grep -qE "^  $w +2 " "$TMP/r2" || fail "by worker: no row for $w"; done
"$LOCKSTEP" report --db "$DB" --by label:room --baseline B12 >"$TMP/r3" 2>&1 || fail "report --by label:room"
for w in B12 C3; do grep -qE "^  $w +2 " "$TMP/r3" || fail "by label:room: no row for $w"; done
# the export's platform column follows --by
"$LOCKSTEP" export --db "$DB" --by host >"$TMP/e" || fail "export --by host"
expect_eq "$(awk -F, 'NR > 1 {print $6}' "$TMP/e" | sort -u | tr '\n' ' ')" "h1 h2 " "export --by host"
"$LOCKSTEP" report --db "$DB" --by rack >"$TMP/r4" 2>&1; expect_eq "$?" 2 "report --by rack"
grep -q "expected platform, worker, host or label:KEY" "$TMP/r4" || fail "--by rack: reason"
pass "two lab hosts compared by host, worker and label"
