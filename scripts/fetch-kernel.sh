#!/bin/sh
# fetch-kernel.sh — the kernel of the qemu and kvm launchers' VMs: Debian's
# newest linux-image-*-cloud-amd64 (what the meta package
# linux-image-cloud-amd64 depends on), unpacked without installing it into
# /var/cache/lockstep/kernel/<version>/ (boot/vmlinuz-<version>,
# lib/modules/<version>/).  Idempotent: nothing is downloaded when that
# version is there already.  Prints the vmlinuz path.
#
# usage: scripts/fetch-kernel.sh [CACHE_DIR]   (run as root; needs apt, dpkg)
set -eu

cache=${1:-${LOCKSTEP_KERNEL_CACHE:-/var/cache/lockstep/kernel}}
meta=linux-image-cloud-amd64

pkg=$(apt-cache depends "$meta" 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-.*-cloud-amd64$/ { print $2; exit }')
if [ -z "$pkg" ]; then
    echo "fetch-kernel.sh: apt does not know $meta or its kernel (run apt-get update?)" >&2
    exit 1
fi
ver=${pkg#linux-image-}
dest=$cache/$ver
if [ -f "$dest/boot/vmlinuz-$ver" ] && [ -f "$dest/lib/modules/$ver/modules.order" ]; then
    echo "$dest/boot/vmlinuz-$ver"
    exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# apt-get download drops root for _apt, who must be able to write here
chown _apt "$tmp" 2>/dev/null || true
(cd "$tmp" && apt-get download -q "$pkg" >&2)
deb=$(ls "$tmp"/"$pkg"_*.deb)
dpkg -x "$deb" "$tmp/root"
if [ ! -f "$tmp/root/boot/vmlinuz-$ver" ]; then
    echo "fetch-kernel.sh: $deb has no boot/vmlinuz-$ver" >&2
    exit 1
fi
rm -rf "$dest"
mv "$tmp/root" "$dest"
echo "$dest/boot/vmlinuz-$ver"
