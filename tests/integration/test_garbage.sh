# Garbage on the coordinator's ports during a run — raw bytes on both TCP
# ports, and a ZeroMQ peer sending allocation bombs, random frames,
# multi-frame messages and mistyped messages — must not disturb the run.
. "$(dirname "$0")/lib.sh"
DB=$TMP/g.db
PORT=$(free_port)
"$LOCKSTEP" run "$SRC/tests/integration/data/long.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --local 2 --db "$DB" >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
sleep 0.3
"$BIN/hostile" "tcp://127.0.0.1:$PORT" 20 || fail "hostile peer could not run"
kill -0 $COORD 2>/dev/null || fail "the run ended before the hostile peer was done"
# raw bytes, and a valid ZMTP signature followed by noise; each write is
# bounded in time since a peer mid-handshake may stop reading
for port in $PORT $((PORT + 1)); do
  for i in 1 2 3 4 5; do
    timeout 2 bash -c "head -c 4096 /dev/urandom > /dev/tcp/127.0.0.1/$port" 2>/dev/null
    timeout 2 bash -c "{ printf '\\xff\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x7f\\x03\\x00NULL'; head -c 100000 /dev/urandom; } > /dev/tcp/127.0.0.1/$port" 2>/dev/null
  done
done
wait $COORD; rc=$?
[ $rc -eq 0 ] || { tail -20 "$TMP/err"; fail "coordinator exit $rc"; }
grep -q "dropped a frame from 'hostile-0' (5 bytes): array of .* elements declared" "$TMP/err" ||
  fail "the allocation bomb was not seen and dropped"
grep -q "dropped a message of 4 frames" "$TMP/err" || fail "the multi-frame message was not dropped"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 20 "results"
expect_eq "$(sql "SELECT COUNT(*) FROM workers")" 2 "only real workers admitted"
pass "run completed through garbage"
