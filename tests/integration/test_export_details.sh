# test_export_details.sh — `lockstep export --details`: what iperf3 reports
# beside the bit rates (target, attempts, round trip, CPU use of both ends,
# congestion control, the addresses used, per-stream figures, the server's
# view) comes out as long CSV (one row a detail) and as JSON with each
# result's metrics and details nested.
. "$(dirname "$0")/lib.sh"
"$BIN/lockstep" list iperf >/dev/null 2>&1 || skip "built without libiperf"
cat >"$TMP/x.yaml" <<'EOF'
name: details
schedule: round-robin
repetitions: 1
start_delay: 200ms
phases:
  - name: uplink
    bench: iperf
    servers: [local-0]
    params: {streams: 3, time: 1s}
EOF
DB=$TMP/x.db
"$LOCKSTEP" run "$TMP/x.yaml" --local 2 --db "$DB" >"$TMP/out" 2>"$TMP/err" ||
  { tail -20 "$TMP/err"; fail "run"; }
"$LOCKSTEP" export --db "$DB" --details >"$TMP/d.csv" || fail "export --details"
expect_eq "$(head -1 "$TMP/d.csv")" "run,phase,bench,rep,worker,platform,key,value" "CSV header"
for k in target rtt_min_ms rtt_mean_ms rtt_max_ms cpu_local_pct cpu_remote_pct congestion_sender \
         congestion_receiver remote_host stream.1.received_Mbps stream.3.received_Mbps \
         stream.1.retransmits server.worker server.received_Mbps opt.busy_retry; do
  grep -q "^1,uplink,iperf,1,local-1,[a-z]*,$k," "$TMP/d.csv" || fail "CSV: no detail $k of local-1"
done
expect_eq "$(awk -F, '$7 == "remote_host" {print $8}' "$TMP/d.csv")" 127.0.0.1 "CSV remote_host"
expect_eq "$(awk -F, '$7 == "server.worker" {print $8}' "$TMP/d.csv")" local-0 "CSV server.worker"
"$LOCKSTEP" export --db "$DB" --details --format json >"$TMP/d.json" || fail "export --details json"
python3 - "$TMP/d.json" <<'EOF' || fail "JSON details"
import json, sys
rows = json.load(open(sys.argv[1]))
r = [x for x in rows if x["phase"] == "uplink" and x["worker"] == "local-1"]
assert len(r) == 1, rows
r = r[0]
assert r["status"] == "ok", r
assert r["metrics"]["received_Mbps"] > 0 and r["units"]["received_Mbps"] == "Mbit/s", r
d = r["details"]
assert float(d["rtt_min_ms"]) <= float(d["rtt_mean_ms"]) <= float(d["rtt_max_ms"]), d
assert 0 <= float(d["cpu_local_pct"]) and 0 <= float(d["cpu_remote_pct"]), d
assert d["congestion_sender"] and d["remote_host"] == "127.0.0.1", d
s = sum(float(d["stream.%d.received_Mbps" % i]) for i in (1, 2, 3))
assert abs(s - r["metrics"]["received_Mbps"]) <= 0.05 * s, (s, r["metrics"])
assert d["server.worker"] == "local-0" and d["target"].startswith("127.0.0.1:"), d
print("json: %s Mbit/s, rtt %s ms, cpu %s%%/%s%%, %s" % (r["metrics"]["received_Mbps"],
      d["rtt_mean_ms"], d["cpu_local_pct"], d["cpu_remote_pct"], d["congestion_sender"]))
EOF
"$LOCKSTEP" export --db "$DB" --details --format wide >/dev/null 2>&1
expect_eq "$?" 2 "--details with --format wide"
# the plain export is what it was
expect_eq "$("$LOCKSTEP" export --db "$DB" | head -1)" "run,phase,bench,rep,worker,platform,metric,unit,value,status" \
  "plain CSV header"
pass "export --details: CSV rows and nested JSON with iperf's RTT, CPU, congestion control and streams"
