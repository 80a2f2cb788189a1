#!/usr/bin/env bash
# report-fixture.sh BIN_DIR SOURCE_DIR DB — a fixture database for the
# report tests, from real data: tests/integration/data/report.yaml run by 4
# local workers, then relabelled by SQL as the course's four platforms.
#   local-0 native, local-1 docker, local-2 kvm, local-3 qemu
#   qemu's cpu values divided by 10 (TCG's order of magnitude)
#   qemu lost in the last repetition of fork (a loss, as the coordinator
#   records one: the worker marked lost, its repetition a 'lost' row)
# Exit status: that of `lockstep run` when it fails, else 0.
set -euo pipefail
BIN=$1 SRC=$2 DB=$3
rm -f "$DB" "$DB-wal" "$DB-shm"
"$BIN/lockstep" run "$SRC/tests/integration/data/report.yaml" --local 4 --db "$DB" -q >/dev/null
sqlite3 -batch "$DB" <<'SQL'
BEGIN;
UPDATE workers SET platform = CASE name WHEN 'local-0' THEN 'native' WHEN 'local-1' THEN 'docker'
  WHEN 'local-2' THEN 'kvm' WHEN 'local-3' THEN 'qemu' END;
UPDATE results SET value = value / 10 WHERE worker = 'local-3' AND value IS NOT NULL
  AND phase = (SELECT idx FROM phases p WHERE p.run = results.run AND p.name = 'cpu');
UPDATE results SET value = NULL, status = 'lost', error = 'no RESULT before the phase deadline'
  WHERE worker = 'local-3' AND rep = 3
  AND phase = (SELECT idx FROM phases p WHERE p.run = results.run AND p.name = 'fork');
UPDATE workers SET status = 'lost', lost_at = (SELECT finished_at FROM runs WHERE id = workers.run),
  lost_reason = 'no RESULT before the phase deadline', lost_phase = 'fork' WHERE name = 'local-3';
UPDATE runs SET status = 'partial';
COMMIT;
SQL
