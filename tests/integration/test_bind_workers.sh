# A coordinator with an explicit --bind and two workers started separately,
# as on lab machines: both admitted, all results stored, workers exit on QUIT.
. "$(dirname "$0")/lib.sh"
DB=$TMP/b.db
PORT=$(free_port)
"$LOCKSTEP" run "$SRC/tests/integration/data/quick.yaml" --bind "tcp://127.0.0.1:$PORT" \
  --expect alpha,beta --db "$DB" --timeout 20 >"$TMP/out" 2>"$TMP/err" &
COORD=$!; PIDS+=($COORD)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name beta --spool "$TMP/sb" 2>"$TMP/wb" &
WB=$!; PIDS+=($WB)
"$WORKER" --connect "tcp://127.0.0.1:$PORT" --name alpha --spool "$TMP/sa" 2>"$TMP/wa" &
WA=$!; PIDS+=($WA)
wait $COORD; rc=$?
[ $rc -eq 0 ] || { cat "$TMP/err" "$TMP/wa"; fail "coordinator exit $rc"; }
wait $WA; ra=$?; wait $WB; rb=$?
expect_eq "$ra/$rb" "0/0" "worker exit statuses"
expect_eq "$(sql "SELECT group_concat(name || ':' || rank, ' ') FROM (SELECT * FROM workers ORDER BY rank)")" "alpha:0 beta:1" "ranks by name"
expect_eq "$(sql "SELECT COUNT(*) FROM (SELECT DISTINCT phase, rep, worker FROM results WHERE status='ok')")" 14 "results"
# every result was acknowledged, so both spools are empty
expect_eq "$(ls "$TMP/sa" "$TMP/sb" | grep -c '\.res$')" 0 "spooled results left"
grep -q "platform" "$TMP/wa" || fail "worker log does not name its platform"
pass "separately started workers ran the experiment"
