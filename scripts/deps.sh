#!/usr/bin/env bash
# Install the Debian 12 packages lockstep needs to build and test.
# Idempotent: installs only what is missing; elevates with sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config            # toolchain
  libzmq3-dev libczmq-dev libmsgpack-dev      # transport and encoding
  libsqlite3-dev libyaml-dev                  # results store, experiment files
  libjansson-dev                              # JSON: iperf's report (common/json.c)
  libarchive-dev cpio                         # the VM initramfs (cpio newc); tests read it back with cpio(1)
  libiperf-dev liburing-dev                   # network and disk benchmarks
  libcmocka-dev sqlite3 python3               # unit tests; integration tests query the database
  clang libclang-rt-14-dev                    # libFuzzer targets (tests/fuzz)
  sysbench fio iperf3                         # reference tools for scripts/fidelity.py
  iproute2 kmod                               # network namespaces, tc: simulated public iperf servers
  docker.io                                   # docker platform (engine started by scripts/services.sh)
  qemu-system-x86 e2fsprogs                   # qemu/kvm platforms: the VM, its ext4 disk image
  ansible ansible-lint debootstrap            # ansible/ deployment and its test targets' image
  gnuplot-nox                                 # lockstep report: box plots (SVG, PNG)
  chromium bsdutils                           # report tests: report.html in headless chromium; script(1)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
