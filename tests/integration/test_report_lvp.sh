# The report's local-vs-public section on a real run of
# experiments/local-vs-public.yaml: 3 local workers, local-0 serving the
# local phase, a simulated public server in a network namespace behind a
# 100 Mbit/s link.  Clients relabelled docker and kvm by SQL; local-0 stays
# native and, having served the local phase, has only a public result.
. "$(dirname "$0")/lib.sh"
"$LOCKSTEP" list iperf >/dev/null 2>&1 || skip "built without libiperf"
ns_server lsrep$$ 63 100mbit 5201,5202,5203
addr=$NS_ADDR
sed -e "s/198.18.60.2/$addr/" -e 's/repetitions: 5/repetitions: 2/' -e 's/time: 5s/time: 1s/' \
  "$SRC/experiments/local-vs-public.yaml" >"$TMP/lvp.yaml"
DB=$TMP/lvp.db
"$LOCKSTEP" run "$TMP/lvp.yaml" --local 3 --db "$DB" -q >"$TMP/run.out" 2>"$TMP/run.err" ||
  { tail -20 "$TMP/run.err"; fail "run: exit $?"; }
sql "UPDATE workers SET platform = CASE name WHEN 'local-1' THEN 'docker' WHEN 'local-2' THEN 'kvm'
     ELSE platform END"
"$LOCKSTEP" report --db "$DB" --out "$TMP/r" >"$TMP/o" 2>"$TMP/e" || { cat "$TMP/e"; fail "report"; }
cat "$TMP/o"
grep -q "^uplink-local: .*against local server local-0$" "$TMP/o" || fail "local phase not recognised"
grep -q "^uplink-public: .*against public $addr:520[1-3]" "$TMP/o" || fail "public phase not recognised"
sed -n '/^local vs public/,/^$/p' "$TMP/o" >"$TMP/lvp"
grep -qE "^  native +- +[0-9.]+ +- +no local result$" "$TMP/lvp" || fail "native: public only"
for p in docker kvm; do
  grep -qE "^  $p +[0-9.]+ +[0-9.]+ +0\.[0-9]+ +beyond the host" "$TMP/lvp" ||
    fail "$p: local and public side by side, bottleneck beyond the host"
done
grep -q "the bottleneck lies outside the host" "$TMP/lvp" || fail "no conclusion"
# the verdict rests on what iperf3 measured of the sender, not on the ratio
# alone: its CPU utilisation and the round trip, locally and publicly
grep -qE "^  docker .*with its CPU to spare; sender CPU [0-9]+% locally, [0-9]+% publicly; RTT [0-9.]+ ms locally, [0-9.]+ ms publicly" "$TMP/lvp" ||
  { cat "$TMP/lvp"; fail "docker's verdict does not give the sender's CPU and the RTT"; }
# a sender saturated against the public server: its CPU, not the path
sql "UPDATE result_details SET value = '97.5' WHERE key = 'cpu_local_pct' AND worker = 'local-2'
     AND phase = (SELECT idx FROM phases WHERE name = 'uplink-public')"
"$LOCKSTEP" report --db "$DB" >"$TMP/o2" 2>"$TMP/e2" || { cat "$TMP/e2"; fail "report"; }
grep -qE "^  kvm .*the platform's CPU: its sender is saturated against the public server .*sender CPU [0-9]+% locally, 98% publicly" "$TMP/o2" ||
  { sed -n '/^local vs public/,/^$/p' "$TMP/o2"; fail "a saturated sender is not named as the bottleneck"; }
grep -q 'id="local-vs-public"' "$TMP/r/report.html" || fail "HTML has no local-vs-public section"
grep -q "^## Local vs public" "$TMP/r/report.md" || fail "Markdown has no local-vs-public section"
pass "report: local vs public, bottleneck beyond the host"
