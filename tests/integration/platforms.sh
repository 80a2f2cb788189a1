# platforms.sh — shared by the platform tests (sourced after lib.sh): what a
# machine must have for each platform, and the check that a run left nothing
# behind: no container, VM, state directory or worker process of its own.

# Prints why docker cannot be used here, or nothing.
docker_missing() {
  command -v docker >/dev/null || { echo "docker CLI not installed (package docker.io)"; return; }
  timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    echo "docker engine not running (scripts/services.sh starts it)"
}
# Prints why a TCG VM cannot be started here, or nothing.
qemu_missing() {
  command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not installed"; return; }
  ls /var/cache/lockstep/kernel/*/boot/vmlinuz-* >/dev/null 2>&1 || [ -n "${LOCKSTEP_KERNEL:-}" ] ||
    echo "no VM kernel (scripts/fetch-kernel.sh fetches it)"
}

# The run's key as containers, VMs and state directories spell it.
run_key_hex() { sql "SELECT printf('%016x', key) FROM runs ORDER BY id DESC LIMIT 1"; }

# Nothing of run KEY left: containers, qemu processes, state directory,
# worker processes.  Waits a little for processes that are being reaped.
assert_nothing_left() {
  local key=$1 left
  left_of() {
    if command -v docker >/dev/null; then
      timeout 20 docker ps -a --filter "label=lockstep.run=$key" --format 'container {{.Names}}' 2>/dev/null
    fi
    pgrep -af "lockstep-$key" | grep -v pgrep | sed 's/^/process /'
    [ -e "/var/tmp/lockstep-platforms/$key" ] && echo "state directory /var/tmp/lockstep-platforms/$key"
    pgrep -af "$BIN/lockstep-worker" | grep -- "--connect tcp://127.0.0.1" | grep -v pgrep |
      grep -F "lockstep-platforms/$key" | sed 's/^/worker /'
  }
  for _ in $(seq 50); do
    left=$(left_of)
    [ -z "$left" ] && return 0
    sleep 0.2
  done
  fail "left behind by run $key: $left"
}
