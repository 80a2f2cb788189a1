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
NS_UP=()
NETNS=$SRC/scripts/netns-iperf.sh

cleanup() {
  # only what is still ours: a recorded PID that has ended may already be
  # someone else's (fork benchmarks wrap the PID space in seconds)
  local live=" $(jobs -p | tr '\n' ' ') "
  for p in "${PIDS[@]}"; do
    [[ "$live" == *" $p "* ]] && kill -9 "$p" 2>/dev/null
  done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
  for ns in "${NS_UP[@]}"; do
    bash "$NETNS" down "$ns" >/dev/null 2>&1
  done
  for c in "$PORT_CLAIMS"/*/owner; do
    [ "$(cat "$c" 2>/dev/null)" = "$$" ] && rm -rf "$(dirname "$c")"
  done
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
# Chosen below the kernel's ephemeral range (ip_local_port_range): a port in
# that range may be taken at any moment as the local end of some other
# test's outgoing connection, which a connect() probe cannot see.  A claim
# directory keeps two tests running in parallel from picking the same pair.
PORT_CLAIMS=/tmp/lockstep-it-ports
# free_port runs in $(...): $$ still names the test's own shell there, and
# cleanup releases every claim holding it.  A claim whose owner is dead (a
# test killed with -9) is taken over.
claim_port() {
  local d=$PORT_CLAIMS/$1 owner
  if ! mkdir "$d" 2>/dev/null; then
    owner=$(cat "$d/owner" 2>/dev/null)
    [ -z "$owner" ] && return 1    # being claimed right now
    kill -0 "$owner" 2>/dev/null && return 1
    rm -rf "$d"; mkdir "$d" 2>/dev/null || return 1
  fi
  echo $$ > "$d/owner"
}
free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 12000 ] || lo=32768
  mkdir -p "$PORT_CLAIMS"
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % (lo - 10002)))
    p=$((p - p % 2))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
       ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null &&
       claim_port "$p"; then
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

# Wait (at most SECS) until each worker PID has used half a second of CPU
# from now: a worker running the cpu benchmark keeps a core busy, so it is
# measuring, not still waiting for its GO.  "The phase is stored, sleep a
# second" is not that under load: a worker frozen before its start time
# measures from the thaw.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
wait_measuring() { # SECS PID...
  local secs=$1 pid; shift
  local -A base=()
  for pid in "$@"; do base[$pid]=$(cpu_ticks "$pid"); done
  local half=$(( $(getconf CLK_TCK) / 2 ))
  all_measuring() {
    for pid in "${!base[@]}"; do
      [ $(( $(cpu_ticks "$pid") - ${base[$pid]} )) -ge "$half" ] || return 1
    done
  }
  wait_for "$secs" all_measuring
}

expect_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; }

# A simulated public iperf server: network namespace NAME on subnet NET
# (scripts/netns-iperf.sh), behind a RATE link, iperf3 on PORTS.  Sets
# NS_ADDR; the namespace goes down with the test.  Skips where namespaces
# cannot be made (not root, no ip netns).
ns_server() {
  local name=$1 net=$2 rate=$3 ports=$4
  [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
  NS_UP+=("$name")
  NS_ADDR=$(NETNS_IPERF_NET=$net bash "$NETNS" up "$name" "$rate" 0 "$ports" 2>"$TMP/ns.err") ||
    { cat "$TMP/ns.err"; skip "cannot create the network namespace here"; }
}

# A run of data/long.yaml in the background with ARGS (its database: $DB),
# once it has stored two results (within LONG_WAIT seconds, default 30):
# COORD is its PID, its output in $TMP/out and $TMP/err.
start_long_run() {
  "$LOCKSTEP" run "$SRC/tests/integration/data/long.yaml" "$@" --db "$DB" >"$TMP/out" 2>"$TMP/err" &
  COORD=$!; PIDS+=($COORD)
  wait_for "${LONG_WAIT:-30}" have_results || { tail -20 "$TMP/err"; fail "no results appeared"; }
}
have_results() { [ -f "$DB" ] && [ "$(sql "SELECT COUNT(*) FROM results" 2>/dev/null)" -ge 2 ] 2>/dev/null; }
