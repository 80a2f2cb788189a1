#!/usr/bin/env bash
# Start what the platform tests need and a fresh machine does not run:
# the Docker engine, and the Debian cloud kernel the qemu/kvm worker VMs
# boot (scripts/fetch-kernel.sh).  Idempotent; quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if command -v dockerd >/dev/null && ! timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    $sudo systemctl start docker || true
  fi
  if ! timeout 10 docker version >/dev/null 2>&1; then
    echo "services: starting dockerd (log: /var/log/lockstep-dockerd.log)"
    $sudo bash -c 'nohup dockerd >/var/log/lockstep-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 60); do
    timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
if timeout 10 docker version --format 'services: docker engine {{.Server.Version}}' 2>/dev/null; then :
else echo "services: docker engine not running (the docker platform tests will say skipped)"; fi

if [ -x scripts/fetch-kernel.sh ]; then
  $sudo ./scripts/fetch-kernel.sh || echo "services: no VM kernel (the qemu/kvm platform tests will say skipped)"
fi
