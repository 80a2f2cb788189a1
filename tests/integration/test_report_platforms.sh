# lockstep report groups results by the platform a worker was launched as,
# never by the worker's own detection: on a host with container marks the
# native worker detects itself as docker, and the report still shows native
# and docker as two rows of three repetitions, with the mismatch flagged in
# the text, the Markdown and the HTML.  Baselines and expectations match the
# entry name, or its kind when only one entry has it (qemu-tcg is of kind
# qemu); the long CSV, the JSON and the wide CSV use the same label.
# Fixture: data/report-platforms.sh (SQL, no workers run).
. "$(dirname "$0")/lib.sh"
DB=$TMP/p.db
bash "$SRC/tests/integration/data/report-platforms.sh" "$BIN" "$DB" >"$TMP/fx.out" 2>&1 ||
  { cat "$TMP/fx.out"; fail "fixture"; }
"$LOCKSTEP" report --db "$DB" --run 1 --out "$TMP/r" -x 'cpu: qemu < 0.5 * native' \
  >"$TMP/o" 2>"$TMP/e" || { cat "$TMP/e"; fail "report exit $?"; }

# cpu: one row per launched platform, three repetitions each, in kind order
rows=$(sed -n '/^cpu:/,/^$/p' "$TMP/o" | awk 'NR > 2 && $2 ~ /^[0-9]+$/ {print $1 ":" $2}' | tr '\n' ' ')
expect_eq "$rows" "native:3 docker:3 qemu-tcg:3 " "cpu rows (platform:n)"
grep -q "not in this run" "$TMP/o" && fail "the native baseline is said to be missing"
grep -qE "^  docker +3 .* 0\.990$" "$TMP/o" || fail "docker's ratio to native is not 0.990"
# the mismatch, flagged under the table and in the conditions
grep -q "detection MISMATCH: native was launched as native, its worker detected itself as docker" \
  "$TMP/o" || fail "no mismatch note under the results"
grep -qE "^  native +native +docker MISMATCH " "$TMP/o" || fail "no mismatch in the conditions"
grep -qE "^  docker +docker +docker +1 " "$TMP/o" || fail "docker's conditions row"
grep -q "MISMATCH" <(grep -E "^  (docker|qemu-tcg) " "$TMP/o") && fail "a mismatch flagged on a matching worker"
grep -q '| native | native | \*\*docker MISMATCH\*\* |' "$TMP/r/report.md" ||
  fail "report.md: no mismatch in the conditions"
grep -q '\*\*Detection MISMATCH\*\*: native was launched as native' "$TMP/r/report.md" ||
  fail "report.md: no mismatch note under the results"
grep -q '<td class="l mismatch">docker MISMATCH</td>' "$TMP/r/report.html" ||
  fail "report.html: no mismatch flagged"
grep -q '<td class="l mismatch" colspan="10">detection MISMATCH: native' "$TMP/r/report.html" ||
  fail "report.html: no mismatch note under the results"

# expectations name a kind: qemu is qemu-tcg, the only entry of that kind
grep -A1 "^  confirmed  cpu: qemu < 0.5 × native" "$TMP/o" |
  grep -q "qemu 105 < 0.5 × native 1000 = 500" || fail "expectation on the kind qemu"
# baselines: by kind and by entry name
for b in qemu qemu-tcg; do
  "$LOCKSTEP" report --db "$DB" --run 1 --baseline $b >"$TMP/b" || fail "--baseline $b"
  grep -qE "^  qemu-tcg +3 .* 1\.000$" "$TMP/b" && grep -qE "^  native +3 .* 9\.524$" "$TMP/b" ||
    fail "--baseline $b: ratios"
done

# exports: the platform column is the label the report uses
"$LOCKSTEP" export --db "$DB" --run 1 >"$TMP/long.csv" || fail "export"
expect_eq "$(awk -F, '$5 == "native" {print $6}' "$TMP/long.csv" | sort -u)" native "long CSV platform of worker native"
"$LOCKSTEP" export --db "$DB" --run 1 --format json >"$TMP/long.json" || fail "export json"
grep -c '"worker": "native", "platform": "native"' "$TMP/long.json" | grep -qx 15 ||
  fail "JSON platform of worker native"
"$LOCKSTEP" export --db "$DB" --run 1 --format wide >"$TMP/wide.csv" || fail "export wide"
expect_eq "$(tail -n +2 "$TMP/wide.csv" | cut -d, -f1 | uniq -c | awk '{print $2 ":" $1}' | tr '\n' ' ')" \
  "native:3 docker:3 qemu-tcg:3 " "wide CSV platforms"
cmp -s "$TMP/wide.csv" "$TMP/r/results-wide.csv" || fail "results-wide.csv differs from export"
pass "report: launched platforms kept apart, detection mismatch flagged, labels shared by exports"
