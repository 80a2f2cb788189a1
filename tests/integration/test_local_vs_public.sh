# The course's second question end to end: experiments/local-vs-public.yaml
# with 3 local workers, a local iperf server (local-0) and a simulated public
# server in a network namespace behind a 100 Mbit/s link; plus a public
# target list whose first port is refused, so the fallback is recorded.
. "$(dirname "$0")/lib.sh"
"$BIN/lockstep" list iperf >/dev/null 2>&1 || skip "built without libiperf"
ns_server lspub$$ 61 100mbit 5201,5202,5203
addr=$NS_ADDR
# the demo file's target, pointed at this test's namespace; the first port
# of the second phase's list is closed (refused) -> fallback
sed -e "s/198.18.60.2:5201-5203/$addr:5204,$addr:5201-5203/" -e 's/repetitions: 5/repetitions: 1/' \
    -e 's/time: 5s/time: 2s/' -e 's/^  - name: uplink-public/  - name: uplink-public/' \
    "$SRC/experiments/local-vs-public.yaml" >"$TMP/lvp.yaml"
sed -i "s/targets: \[\"$addr:5204,$addr:5201-5203\"\]/targets: [\"$addr:5204\", \"$addr:5201-5203\"]/" "$TMP/lvp.yaml"
"$LOCKSTEP" validate "$TMP/lvp.yaml" >/dev/null || { cat "$TMP/lvp.yaml"; fail "test experiment invalid"; }
DB=$TMP/lvp.db
"$LOCKSTEP" run "$TMP/lvp.yaml" --local 3 --db "$DB" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { tail -30 "$TMP/err"; fail "exit status $rc"; }
# local phase: local-1 and local-2 measured against local-0, which served
expect_eq "$(sql "SELECT group_concat(worker) FROM (SELECT worker FROM results r JOIN phases p
  ON p.run=r.run AND p.idx=r.phase WHERE p.name='uplink-local' AND metric='received_Mbps'
  AND status='ok' ORDER BY worker)")" "local-1,local-2" "local clients"
expect_eq "$(sql "SELECT COUNT(*) FROM result_details d JOIN phases p ON p.run=d.run AND p.idx=d.phase
  WHERE p.name='uplink-local' AND d.key='server.worker' AND d.value='local-0'")" 2 "server's view recorded"
# public phase: all three clients, through the shaped link, after a refused port
pub=$(sql "SELECT group_concat(printf('%.1f', value), ' ') FROM results r JOIN phases p
  ON p.run=r.run AND p.idx=r.phase WHERE p.name='uplink-public' AND metric='received_Mbps' AND status='ok'")
echo "public received Mbit/s: $pub"
[ "$(echo "$pub" | wc -w)" -eq 3 ] || fail "public results: '$pub'"
for v in $pub; do
  # goodput ceiling of a 100mbit tbf: 100 * 1448/1514 = 95.6
  python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 50 <= v <= 97.6 else 1)" "$v" ||
    fail "public throughput $v Mbit/s is not that of the 100 Mbit/s link"
done
loc=$(sql "SELECT MIN(value) FROM results r JOIN phases p ON p.run=r.run AND p.idx=r.phase
  WHERE p.name='uplink-local' AND metric='received_Mbps'")
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 200 else 1)" "$loc" ||
  fail "local throughput $loc Mbit/s is not above the public link's"
# round-robin: each client alone, so each tries the refused port first
expect_eq "$(sql "SELECT COUNT(*) FROM result_details WHERE key='attempt.1' AND value LIKE '$addr:5204%'")" 3 \
  "the refused first port recorded"
expect_eq "$(sql "SELECT COUNT(*) FROM result_details WHERE key='target' AND value='$addr:5201'")" 3 \
  "fallback to the next target"
pass "local vs public: local $loc+ Mbit/s, public $pub Mbit/s"
