#!/usr/bin/env bash
# target-image.sh — the Docker image whose containers stand in for lab
# machines in tests/integration/test_ansible.sh: Debian 12 with systemd as
# PID 1, python3 for Ansible, and the libraries the lockstep packages depend
# on already installed (the containers reach no package archive).  No image
# registry here, so the root file system is made with debootstrap from
# Debian's archive and imported with `docker import`.
#
# Cached twice, keyed by a hash of everything below that shapes the image
# (suite, mirror, package list, this script's version):
#   /var/cache/lockstep/ansible-target/<key>.tar   the root file system
#   lockstep-ansible-target:<key>                  the imported image
# Arguments: more packages to install, e.g. what the lockstep .debs depend
# on (test_ansible.sh reads their Depends).
# Prints the image name on stdout; progress and timings go to stderr.
set -euo pipefail

SUITE=${LOCKSTEP_TARGET_SUITE:-bookworm}
MIRROR=${LOCKSTEP_TARGET_MIRROR:-http://deb.debian.org/debian}
CACHE=${LOCKSTEP_TARGET_CACHE:-/var/cache/lockstep/ansible-target}
VERSION=1   # bump when the steps below change the image
PACKAGES=(
  systemd systemd-sysv dbus                   # PID 1, like a lab machine
  python3 python3-apt                         # Ansible's modules (apt needs python3-apt)
  libzmq5 libczmq4 libmsgpackc2 libiperf0     # what the lockstep .debs depend on
  liburing2 libsqlite3-0 libyaml-0-2 libarchive13
  gnuplot-nox sqlite3                         # the coordinator role's extra packages
  python3-docker                              # the docker worker role's modules
  qemu-system-x86 e2fsprogs cpio              # the VM worker role; cpio: the test reads its initramfs
  iproute2 procps less                        # for a person debugging a target
  "$@"                                        # the caller's: the packages' dependencies
)

mapfile -t PACKAGES < <(printf '%s\n' "${PACKAGES[@]}" | sort -u)   # the caller's may repeat ours
key=$( { echo "$VERSION $SUITE $MIRROR"; printf '%s\n' "${PACKAGES[@]}"; } | sha256sum | cut -c1-16)
image=lockstep-ansible-target:$key
log() { echo "target-image: $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "reusing $image"
  echo "$image"; exit 0
fi
mkdir -p "$CACHE"
tarball=$CACHE/$key.tar
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { log "debootstrap not installed (package debootstrap)"; exit 1; }
  root=$(mktemp -d "$CACHE/root.XXXXXX")
  trap 'rm -rf "$root" "$tarball.part"' EXIT
  t0=$SECONDS
  log "debootstrap $SUITE from $MIRROR into $root (a few minutes, once)"
  include=$(IFS=,; echo "${PACKAGES[*]}")
  if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1; then
    tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1
  fi
  rm -f "$root.log"
  log "debootstrap took $((SECONDS - t0)) s"
  # A container is not a machine: no consoles, no udev, no time sync.
  for u in getty@.service console-getty.service systemd-udevd.service systemd-udevd-control.socket \
           systemd-udevd-kernel.socket systemd-timesyncd.service systemd-resolved.service \
           sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
           systemd-firstboot.service systemd-logind.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
  done
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  t1=$SECONDS
  tar -C "$root" --numeric-owner -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  log "root file system cached as $tarball ($(du -h "$tarball" | cut -f1), tar $((SECONDS - t1)) s)"
  rm -rf "$root"; trap - EXIT
fi
t2=$SECONDS
docker import --change 'CMD ["/sbin/init"]' --change 'ENV container=docker' \
  --change 'LABEL lockstep.test=ansible-target' "$tarball" "$image" >/dev/null
log "docker import took $((SECONDS - t2)) s"
echo "$image"
