#!/usr/bin/env bash
# run.sh TARGET CORPUS SECONDS — fuzz TARGET for SECONDS from the saved
# CORPUS (read-only: new inputs go to a scratch directory).  A crash, leak,
# sanitizer report or timeout fails the test; the input that did it is kept
# in the build directory and named on stderr, to be added to CORPUS after
# the fix.
set -uo pipefail
target=$1 corpus=$2 secs=${3:-30}
work=$(mktemp -d /tmp/lockstep-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" artifacts
"$target" "$work/new" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix=artifacts/ 2>"$work/log"
rc=$?
grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$work/log"
if [ $rc -ne 0 ]; then
  tail -60 "$work/log"
  echo "FAIL: $(basename "$target") found a problem; the input is in $(pwd)/artifacts/"
  exit 1
fi
echo "PASS: $(basename "$target") ran ${secs}s from $(ls "$corpus" | wc -l) saved inputs without a finding"
