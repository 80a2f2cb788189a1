# lockstep report shows the conditions each platform ran under above the
# results (kind, own detection, CPUs and which, memory limit, disk, network,
# what was not enforced), warns when the platforms compared were given
# unequal CPUs or memory (naming them and the values), shows unrecorded
# conditions as unknown, and for workers that joined by themselves shows
# their host facts.  Fixture: data/report-platforms.sh (SQL).
. "$(dirname "$0")/lib.sh"
DB=$TMP/p.db
bash "$SRC/tests/integration/data/report-platforms.sh" "$BIN" "$DB" >"$TMP/fx.out" 2>&1 ||
  { cat "$TMP/fx.out"; fail "fixture"; }
"$LOCKSTEP" report --db "$DB" --run 1 --out "$TMP/r" >"$TMP/o" 2>"$TMP/e" ||
  { cat "$TMP/e"; fail "report exit $?"; }

# the table, above the results
c=$(grep -n "^conditions (" "$TMP/o" | cut -d: -f1)
p=$(grep -n "^cpu: " "$TMP/o" | cut -d: -f1)
[ -n "$c" ] && [ -n "$p" ] && [ "$c" -lt "$p" ] || fail "no conditions table above the results"
grep -qE "^  native +native +docker MISMATCH +2 \(0-1\) +no limit +host ext4 +loopback +nothing$" \
  "$TMP/o" || fail "native's conditions"
grep -qE "^  docker +docker +docker +1 \(1\) +1 GiB +overlay2 +bridge NAT +cpu pinning: the cpuset cgroup controller is not delegated$" \
  "$TMP/o" || fail "docker's conditions"
grep -qE "^  qemu-tcg +qemu +qemu +2 \(0-1\) +1 GiB +virtio-blk raw cache=none +user-mode NAT +nothing$" \
  "$TMP/o" || fail "qemu-tcg's conditions"
grep -q "^  not run: kvm (skipped: /dev/kvm: Permission denied)" "$TMP/o" || fail "kvm not run"
# the warning names the platforms and the values
grep -q "^  WARNING: unequal conditions.*CPU counts differ: native 2, docker 1, qemu-tcg 2; memory limits differ: native no limit, docker 1 GiB, qemu-tcg 1 GiB$" \
  "$TMP/o" || fail "no warning on unequal CPUs and memory"
# Markdown and HTML: the same table above the results, the same warning
md=$TMP/r/report.md
[ "$(grep -n '^## Conditions' "$md" | cut -d: -f1)" -lt "$(grep -n '^## Results' "$md" | cut -d: -f1)" ] ||
  fail "report.md: conditions not above the results"
grep -q '^| docker | docker | docker | 1 (1) | 1 GiB | overlay2 | bridge NAT | cpu pinning' "$md" ||
  fail "report.md: docker's conditions"
grep -q '^> \*\*Warning: unequal conditions\*\*.*CPU counts differ: native 2, docker 1' "$md" ||
  fail "report.md: no warning"
html=$TMP/r/report.html
python3 - "$html" <<'PY' || fail "report.html: conditions"
import sys
h = open(sys.argv[1], encoding="utf-8").read()
c, r = h.find('<h2 id="conditions">Conditions</h2>'), h.find('<h2 id="results">')
assert 0 <= c < r, "conditions not above the results"
w = h.find('<p class="warning">')
assert c < w < r, "no warning in the conditions"
assert "CPU counts differ: native 2, docker 1, qemu-tcg 2" in h[w:r], "warning's numbers"
assert '<td class="">1 (1)</td><td class="">1 GiB</td><td class="l">overlay2</td>' in h, "docker row"
PY

# equal CPUs and memory: no warning
cp "$DB" "$TMP/eq.db"
sqlite3 -batch "$TMP/eq.db" "UPDATE platforms SET cpus = 2, memory = 1073741824 WHERE run = 1"
"$LOCKSTEP" report --db "$TMP/eq.db" --run 1 --out "$TMP/eq" >"$TMP/o2" || fail "report (equal)"
grep -qi "warning" "$TMP/o2" "$TMP/eq/report.md" && fail "a warning under equal conditions"
grep -q 'class="warning"' "$TMP/eq/report.html" && fail "report.html: a warning under equal conditions"

# conditions not recorded (NULL): unknown, and nothing to warn about
cp "$DB" "$TMP/null.db"
sqlite3 -batch "$TMP/null.db" "UPDATE platforms SET cpus = NULL, cpu_list = NULL, memory = NULL,
  disk = NULL, network = NULL, unenforced = NULL WHERE run = 1"
"$LOCKSTEP" report --db "$TMP/null.db" --run 1 --out "$TMP/nl" >"$TMP/o3" || fail "report (NULL)"
grep -qE "^  docker +docker +docker +unknown +unknown +unknown +unknown +unknown$" "$TMP/o3" ||
  fail "unrecorded conditions are not 'unknown'"
grep -q '^| docker | docker | docker | — | — | — | — | — |$' "$TMP/nl/report.md" ||
  fail "report.md: unrecorded conditions are not '—'"
grep -qi "warning" "$TMP/o3" && fail "a warning without conditions"

# a worker that joined a run of launched platforms by itself: its host's
# cores stand for its CPUs, and count in the comparison
cp "$DB" "$TMP/mixed.db"
sqlite3 -batch "$TMP/mixed.db" "DELETE FROM platforms WHERE name = 'kvm';
  INSERT INTO workers(run, name, rank, platform, kernel, cpu_model, cores, mem_bytes, status)
    VALUES(1, 'lab-2', 3, 'kvm', 'k', 'KVM CPU', 4, 4294967296, 'admitted');
  INSERT INTO results(run, phase, rep, worker, metric, unit, value, status)
    VALUES(1, 0, 1, 'lab-2', 'events_per_sec', 'events/s', 900, 'ok')"
"$LOCKSTEP" report --db "$TMP/mixed.db" --run 1 >"$TMP/o5" || fail "report (mixed)"
grep -qE "^  kvm +kvm +kvm +4 \(host\) +4 GiB \(host\) +unknown +unknown +unknown$" "$TMP/o5" ||
  fail "the joined worker's conditions"
grep -q "CPU counts differ: native 2, docker 1, kvm 4 (host), qemu-tcg 2;" "$TMP/o5" ||
  fail "the joined worker's cores not compared"

# workers that joined by themselves: their host facts, and unequal cores
"$LOCKSTEP" report --db "$DB" --run 2 --out "$TMP/r2" >"$TMP/o4" || fail "report run 2"
grep -qE "^  native +local-0 +4 +8 GiB +Test CPU +6\.1\.0-28-amd64$" "$TMP/o4" || fail "host facts of local-0"
grep -qE "^  kvm +lab-1 +8 +8 GiB +KVM CPU +6\.1\.0-28-cloud-amd64$" "$TMP/o4" || fail "host facts of lab-1"
grep -q "WARNING: unequal conditions.*host cores differ: native 4, kvm 8$" "$TMP/o4" ||
  fail "no warning on unequal host cores"
grep -q '^| native | local-0 | 4 | 8 GiB | Test CPU | 6.1.0-28-amd64 |$' "$TMP/r2/report.md" ||
  fail "report.md: host facts"
pass "report: conditions table above the results, unequal-resources warning, unknowns, host facts"
