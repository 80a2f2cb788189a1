#!/usr/bin/env bash
# report-platforms.sh BIN_DIR DB — a fixture database for the report's
# platform grouping, conditions and calibration, written by SQL (no worker
# runs): `lockstep run` with a bind that fails creates the schema, then
#
# run 1, as `--platforms native,docker,qemu-tcg,kvm` on a host that itself
# carries container marks:
#   worker native    launched as native, detected itself as docker (/.dockerenv)
#   worker docker    launched as docker, detected docker
#   worker qemu-tcg  an entry of kind qemu, detected qemu
#   kvm              skipped (no worker)
#   conditions: native 2 CPUs (0-1), no memory limit; docker 1 CPU (1), 1 GiB,
#   cpu pinning not enforced; qemu-tcg 2 CPUs, 1 GiB
#   phases: cpu (built-in), sysbench-cpu (exec, reference_for cpu), mem
#   (built-in, MiB/s), sysbench-mem (exec in ops/s, reference_for mem)
#   cpu / sysbench-cpu pairs: native 1000/1000 1010/1000 990/1000 (within
#   ±5 %); docker 980/1000 1000/1000 990/1100 (rep 3: 0.9, OFF); qemu-tcg
#   100/100 110/110 105/105 (1.0)
# run 2, two workers that joined by themselves (no platforms rows): local-0
#   native with 4 cores and lab-1 kvm with 8: host facts, unequal cores.
set -euo pipefail
BIN=$1 DB=$2
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$DB"
# the schema: lockstep run opens (creates) the database before it binds, and
# an address this host does not have fails the bind before any run is
# recorded (report and export only read)
printf 'name: schema\nphases:\n  - {name: a, bench: null}\n' >"$DB.yaml"
"$BIN/lockstep" run "$DB.yaml" --bind tcp://192.0.2.1:5555 --insecure --expect 1 --db "$DB" \
  >/dev/null 2>&1 || true
rm -f "$DB.yaml"
sqlite3 -batch "$DB" <<'SQL'
BEGIN;
INSERT INTO runs(id, key, experiment, status, started_at, finished_at)
  VALUES(1, 101, 'platforms', 'complete', 1767000000000000000, 1767000060000000000);
INSERT INTO workers(run, name, rank, platform, hostname, kernel, cpu_model, cores, mem_bytes,
                    launched_as, status) VALUES
  (1, 'docker', 0, 'docker', 'c0ffee', '6.1.0-28-amd64', 'Test CPU', 2, 8589934592, 'docker', 'admitted'),
  (1, 'native', 1, 'docker', 'lab', '6.1.0-28-amd64', 'Test CPU', 2, 8589934592, 'native', 'admitted'),
  (1, 'qemu-tcg', 2, 'qemu', 'guest', '6.1.0-28-cloud-amd64', 'QEMU TCG CPU', 2, 1073741824, 'qemu', 'admitted');
INSERT INTO platforms(run, name, kind, status, detail, what, cpus, cpu_list, memory, disk, network,
                      unenforced) VALUES
  (1, 'native', 'native', 'ran', NULL, 'pid 100', 2, '0-1', NULL, 'host ext4', 'loopback', NULL),
  (1, 'docker', 'docker', 'ran', NULL, 'container x', 1, '1', 1073741824, 'overlay2', 'bridge NAT',
   'cpu pinning: the cpuset cgroup controller is not delegated'),
  (1, 'qemu-tcg', 'qemu', 'ran', NULL, 'pid 102', 2, '0-1', 1073741824,
   'virtio-blk raw cache=none', 'user-mode NAT', NULL),
  (1, 'kvm', 'kvm', 'skipped', '/dev/kvm: Permission denied', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO phases(run, idx, name, bench, schedule, reps, params, reference_for) VALUES
  (1, 0, 'cpu', 'cpu', 'round-robin', 3, '{}', NULL),
  (1, 1, 'sysbench-cpu', 'exec', 'round-robin', 3, '{"metric":"events_per_second"}', 'cpu'),
  (1, 2, 'mem', 'mem', 'round-robin', 3, '{}', NULL),
  (1, 3, 'sysbench-mem', 'exec', 'round-robin', 3, '{"metric":"ops"}', 'mem');
-- exec stores the wall time first: the reference's metric is the other one
INSERT INTO results(run, phase, rep, worker, metric, unit, value, status)
  SELECT 1, 1, rep, worker, 'time_s', 's', 10.0, 'ok'
  FROM (SELECT 1 AS rep UNION SELECT 2 UNION SELECT 3),
       (SELECT 'native' AS worker UNION SELECT 'docker' UNION SELECT 'qemu-tcg');
INSERT INTO results(run, phase, rep, worker, metric, unit, value, status) VALUES
  (1, 0, 1, 'native', 'events_per_sec', 'events/s', 1000, 'ok'),
  (1, 0, 2, 'native', 'events_per_sec', 'events/s', 1010, 'ok'),
  (1, 0, 3, 'native', 'events_per_sec', 'events/s', 990, 'ok'),
  (1, 0, 1, 'docker', 'events_per_sec', 'events/s', 980, 'ok'),
  (1, 0, 2, 'docker', 'events_per_sec', 'events/s', 1000, 'ok'),
  (1, 0, 3, 'docker', 'events_per_sec', 'events/s', 990, 'ok'),
  (1, 0, 1, 'qemu-tcg', 'events_per_sec', 'events/s', 100, 'ok'),
  (1, 0, 2, 'qemu-tcg', 'events_per_sec', 'events/s', 110, 'ok'),
  (1, 0, 3, 'qemu-tcg', 'events_per_sec', 'events/s', 105, 'ok'),
  (1, 1, 1, 'native', 'events_per_second', 'events/s', 1000, 'ok'),
  (1, 1, 2, 'native', 'events_per_second', 'events/s', 1000, 'ok'),
  (1, 1, 3, 'native', 'events_per_second', 'events/s', 1000, 'ok'),
  (1, 1, 1, 'docker', 'events_per_second', 'events/s', 1000, 'ok'),
  (1, 1, 2, 'docker', 'events_per_second', 'events/s', 1000, 'ok'),
  (1, 1, 3, 'docker', 'events_per_second', 'events/s', 1100, 'ok'),
  (1, 1, 1, 'qemu-tcg', 'events_per_second', 'events/s', 100, 'ok'),
  (1, 1, 2, 'qemu-tcg', 'events_per_second', 'events/s', 110, 'ok'),
  (1, 1, 3, 'qemu-tcg', 'events_per_second', 'events/s', 105, 'ok'),
  (1, 2, 1, 'native', 'MiB_per_sec', 'MiB/s', 9000, 'ok'),
  (1, 2, 2, 'native', 'MiB_per_sec', 'MiB/s', 9100, 'ok'),
  (1, 2, 3, 'native', 'MiB_per_sec', 'MiB/s', 9200, 'ok'),
  (1, 3, 1, 'native', 'ops', 'ops/s', 2300000, 'ok'),
  (1, 3, 2, 'native', 'ops', 'ops/s', 2310000, 'ok'),
  (1, 3, 3, 'native', 'ops', 'ops/s', 2320000, 'ok');
INSERT INTO runs(id, key, experiment, status, started_at, finished_at)
  VALUES(2, 102, 'joined', 'complete', 1767000100000000000, 1767000160000000000);
INSERT INTO workers(run, name, rank, platform, hostname, kernel, cpu_model, cores, mem_bytes, status)
  VALUES
  (2, 'local-0', 0, 'native', 'lab', '6.1.0-28-amd64', 'Test CPU', 4, 8589934592, 'admitted'),
  (2, 'lab-1', 1, 'kvm', 'lab1', '6.1.0-28-cloud-amd64', 'KVM CPU', 8, 8589934592, 'admitted');
INSERT INTO phases(run, idx, name, bench, schedule, reps, params)
  VALUES(2, 0, 'cpu', 'cpu', 'lockstep', 2, '{}');
INSERT INTO results(run, phase, rep, worker, metric, unit, value, status) VALUES
  (2, 0, 1, 'local-0', 'events_per_sec', 'events/s', 1000, 'ok'),
  (2, 0, 2, 'local-0', 'events_per_sec', 'events/s', 1000, 'ok'),
  (2, 0, 1, 'lab-1', 'events_per_sec', 'events/s', 950, 'ok'),
  (2, 0, 2, 'lab-1', 'events_per_sec', 'events/s', 960, 'ok');
COMMIT;
SQL
