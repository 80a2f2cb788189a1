#!/usr/bin/env bash
# The whole test suite: install dependencies, build (warnings are errors),
# start the services the platform tests need (dockerd, the VM kernel), run
# every CTest test; then the same suite again in the ASan + UBSan build,
# where any sanitizer report fails the test; then fuzz the message decoder
# and the experiment parser for a fixed time.  .ci/run calls exactly this.
# Extra arguments go to both ctest runs (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/services.sh
jobs=$(nproc)
cmake --preset default >/dev/null
cmake --build --preset default -j"$jobs"
ctest --preset default -j"$jobs" "$@"
cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
# (the Ansible deployment test installs the .debs of the default build on
# systemd containers: it tests packaging and playbooks, not memory safety,
# and runs once, above; so do the platform tests, which start containers and
# VMs one at a time for minutes — the launchers' own code runs under the
# sanitizers in unit.test_vm and the coordinator's in every other test)
ctest --preset asan -j"$jobs" -LE "ansible|platforms" "$@"
# libFuzzer (clang): each fuzz target for a fixed time from its saved corpus
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz -j"$jobs"
