# lib.sh — shared by the integration tests: real coordinator and worker
# processes on loopback, assertions on exit codes and on the database.
# Each test is run as: bash test_x.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=${1:?bin dir}
SRC=${2:?source dir}
LOCKSTEP=$BIN/lockstep
WORKER=$BIN/lockstep-worker
TMP=$(mktemp -d /tmp/lockstep-it.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
# In a sanitizer build every process's stderr lands in $TMP: a report there
# fails the test even when the exit statuses looked right.
pass() {
  if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP"/* 2>/dev/null; then
    grep -hE -A5 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP"/* | head -40
    fail "sanitizer report"
  fi
  echo "PASS: $*"
}
command -v sqlite3 >/dev/null || skip "sqlite3 command-line tool not installed"

sql() { sqlite3 -batch -noheader "$DB" "$@"; }

# A TCP port nothing listens on, and the one after it (the PUB port).
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
       ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null; then
      echo "$p"; return
    fi
  done
  fail "no free port"
}

# Wait (bounded) until a command succeeds.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }
