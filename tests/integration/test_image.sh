# `lockstep image docker|vm|certs DIR`: the docker build context (the
# worker, lockstep-forksum, tools, the worker's libraries and loader, a
# Dockerfile whose entry point is that loader), the VM kernel and initramfs
# (a newc cpio that cpio(1) reads: /init, the worker, its libraries where
# ldd found them, the modules in load order, no secret), a VM's certificates
# cpio; each written again only when its content changed; bad input named,
# exit 2, and what was there left as it was.  A fabricated kernel tree
# stands in for Debian's package (as in unit.test_vm).  Binaries stay out of
# $TMP itself, where a sanitizer build's pass() looks for reports.
. "$(dirname "$0")/lib.sh"
command -v cpio >/dev/null || skip "cpio not installed (package cpio; scripts/deps.sh)"
unset LOCKSTEP_WORKER LOCKSTEP_KERNEL LOCKSTEP_VM_INIT

# image KIND DIR [OPTIONS]: exit status in $rc, stdout in $TMP/out, stderr in $TMP/err
image() { "$LOCKSTEP" image "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
expect_out() { # WHAT WORD
  [ $rc -eq 0 ] || { cat "$TMP/err"; fail "$1: exit $rc"; }
  expect_eq "$(tail -1 "$TMP/out")" "$2" "$1: last line"
}
# The shared libraries ldd resolves for a program, one path a line.
libs_of() { ldd "$1" | sed -n 's|^[^/]*\(/[^ ]*\) (0x.*|\1|p' | sort -u; }

# ---- docker ----
D=$TMP/ctx
image docker "$D"
expect_out "docker context" changed
R=$D/rootfs/opt/lockstep
cmp -s "$R/bin/lockstep-worker" "$WORKER" || fail "the context's worker is not this build's"
cmp -s "$R/bin/lockstep-forksum" "$BIN/lockstep-forksum" || fail "lockstep-forksum not beside the worker"
for lib in $(libs_of "$WORKER"); do
  cmp -s "$R/lib/$(basename "$lib")" "$lib" || fail "docker context: $lib missing from $R/lib"
done
LOADER=$(basename "$(ldd "$WORKER" | sed -n 's|^[[:space:]]*\(/[^ ]*\) (0x.*|\1|p' | head -1)")
grep -qx 'FROM scratch' "$D/Dockerfile" || fail "Dockerfile: not FROM scratch: $(cat "$D/Dockerfile")"
grep -qF "ENTRYPOINT [\"/opt/lockstep/lib/$LOADER\", \"--library-path\", \"/opt/lockstep/lib\", \"/opt/lockstep/bin/lockstep-worker\"]" "$D/Dockerfile" ||
  fail "Dockerfile: entry point: $(cat "$D/Dockerfile")"
expect_eq "$(stat -c %a "$D/rootfs/tmp" "$D/rootfs/var/tmp" | paste -sd' ')" "1777 1777" "scratch image's /tmp and /var/tmp"
grep -qE '^lockstep-worker:[0-9a-f]{16}$' "$D/tag" || fail "tag: $(cat "$D/tag")"
TAG1=$(cat "$D/tag")
touch -d @1 "$D/Dockerfile"
image docker "$D"
expect_out "docker context again" unchanged
expect_eq "$(stat -c %Y "$D/Dockerfile")" 1 "an unchanged context is left alone"
image docker "$D" --tools true
expect_out "docker context with a tool" changed
[ -x "$R/bin/true" ] || fail "tool true not in the context"
[ "$(cat "$D/tag")" != "$TAG1" ] || fail "a tool more, the same tag"
image docker "$D" --base debian:12
expect_out "docker context on a base image" changed
grep -qx 'FROM debian:12' "$D/Dockerfile" || fail "Dockerfile: not FROM debian:12"
[ ! -e "$D/rootfs/tmp" ] || fail "a base image's context brings its own /tmp"
# another worker (a copy with bytes appended) is another image
mkdir -p "$TMP/bin" && cp "$WORKER" "$TMP/bin/lockstep-worker" && echo "test_image $$" >>"$TMP/bin/lockstep-worker"
image docker "$D" --worker "$TMP/bin/lockstep-worker"
expect_out "docker context of another worker" changed
cmp -s "$R/bin/lockstep-worker" "$TMP/bin/lockstep-worker" || fail "--worker not shipped"
[ ! -e "$R/bin/lockstep-forksum" ] || fail "lockstep-forksum shipped although it is not beside that worker"
[ ! -e "$D.new" ] || fail "the scratch context $D.new left behind"

# ---- vm: a fabricated kernel tree ----
VER=9.9.9-test
K=$TMP/k
mkdir -p "$K/boot" "$K/lib/modules/$VER"
echo "not really a kernel" >"$K/boot/vmlinuz-$VER"
MODS="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover
  drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk drivers/char/hw_random/virtio-rng"
for m in fs/xfs/xfs $MODS; do
  mkdir -p "$K/lib/modules/$VER/kernel/$(dirname "$m")"
  echo "$m" >"$K/lib/modules/$VER/kernel/$m.ko"
  echo "kernel/$m.ko" >>"$K/lib/modules/$VER/modules.order"
done
: >"$K/lib/modules/$VER/modules.builtin"
V=$TMP/vm
image vm "$V" --kernel "$K/boot/vmlinuz-$VER"
expect_out "vm image" changed
cmp -s "$V/vmlinuz-$VER" "$K/boot/vmlinuz-$VER" || fail "the kernel not copied to $V/vmlinuz-$VER"
cpio -t --quiet <"$V/initramfs.cpio" >"$TMP/list" 2>"$TMP/cpio-err" || { cat "$TMP/cpio-err"; fail "cpio -t cannot read the initramfs"; }
for f in init dev/console bin/lockstep-worker bin/lockstep-forksum etc/lockstep/env etc/lockstep/modules \
         $(libs_of "$WORKER" | sed 's|^/||') $(libs_of "$BIN/lockstep-vm-init" | sed 's|^/||') \
         $(for m in $MODS; do echo "lib/modules/$VER/kernel/$m.ko"; done); do
  grep -qxF "$f" "$TMP/list" || fail "initramfs: no $f in: $(paste -sd' ' "$TMP/list")"
done
grep -q 'xfs\|cert' "$TMP/list" && fail "initramfs: more than it needs: $(grep 'xfs\|cert' "$TMP/list")"
mkdir "$TMP/unpacked" && (cd "$TMP/unpacked" && cpio -i -d --quiet <"$V/initramfs.cpio") || fail "cpio -i"
cmp -s "$TMP/unpacked/init" "$BIN/lockstep-vm-init" || fail "/init is not lockstep-vm-init"
cmp -s "$TMP/unpacked/bin/lockstep-worker" "$WORKER" || fail "the initramfs's worker is not this build's"
expect_eq "$(head -1 "$TMP/unpacked/etc/lockstep/modules")" "/lib/modules/$VER/kernel/drivers/virtio/virtio_ring.ko" "first module loaded"
expect_eq "$(wc -l <"$TMP/unpacked/etc/lockstep/modules")" 10 "modules loaded"
cpio -tv --quiet <"$V/initramfs.cpio" | awk '$3 != "root" || $4 != "root"' | grep . && fail "entries not owned by root"
mkdir -p "$TMP/bin" && cp "$V/initramfs.cpio" "$TMP/bin/first.cpio"
image vm "$V" --kernel "$K/boot/vmlinuz-$VER"
expect_out "vm image again" unchanged
cmp -s "$V/initramfs.cpio" "$TMP/bin/first.cpio" || fail "the same inputs gave other bytes"
image vm "$V" --kernel "$K/boot/vmlinuz-$VER" --tools true
expect_out "vm image with a tool" changed
cpio -t --quiet <"$V/initramfs.cpio" | grep -qx bin/true || fail "tool true not in the initramfs"
ls "$V" | grep -q '\.new\|\.tmp' && fail "scratch files left in $V: $(ls "$V")"

# ---- certs ----
"$LOCKSTEP" keygen "$TMP/keys" --workers vm1 >/dev/null || fail "keygen"
C=$TMP/certs
image certs "$C" --cert "$TMP/keys/workers/vm1.cert_secret" --server-cert "$TMP/keys/coordinator.cert"
expect_out "certs cpio" changed
expect_eq "$(stat -c %a "$C/certs.cpio")" 600 "mode of the certificates' cpio"
expect_eq "$(cpio -itv --quiet <"$C/certs.cpio" | awk '{ print $1, $3, $NF }' | paste -sd' ')" \
  "drwxr-xr-x root etc drwxr-xr-x root etc/lockstep -rw-r--r-- root etc/lockstep/coordinator.cert -rw------- root etc/lockstep/worker.cert_secret" \
  "the certificates' cpio"
cpio -i --to-stdout --quiet etc/lockstep/worker.cert_secret <"$C/certs.cpio" | cmp -s - "$TMP/keys/workers/vm1.cert_secret" ||
  fail "the cpio holds another secret certificate"
image certs "$C" --cert "$TMP/keys/workers/vm1.cert_secret" --server-cert "$TMP/keys/coordinator.cert"
expect_out "certs cpio again" unchanged

# ---- bad input: exit 2, a message naming what, nothing touched ----
bad() { # MESSAGE ARGS...: lockstep image ARGS exits 2 saying MESSAGE
  local want=$1; shift
  image "$@"
  [ $rc -eq 2 ] || { cat "$TMP/out" "$TMP/err"; fail "lockstep image $*: exit $rc, expected 2"; }
  grep -qF -- "$want" "$TMP/err" || fail "lockstep image $*: said $(cat "$TMP/err"), expected: $want"
}
SUM=$(cd "$TMP" && find ctx vm certs -type f -exec md5sum {} + | sort)
bad "give the kind of image (docker, vm or certs) and a directory"
bad "give the kind of image" docker
bad "unknown image 'floppy': expected docker, vm or certs" floppy "$D"
bad "--base is for docker images, not vm" vm "$V" --base debian:12
bad "--kernel is for vm images, not docker" docker "$D" --kernel "$K/boot/vmlinuz-$VER"
bad "--cert and --server-cert are for certs, not vm" vm "$V" --cert "$TMP/keys/workers/vm1.cert_secret"
bad "certs: give both --cert SECRET and --server-cert CERT" certs "$C" --cert "$TMP/keys/workers/vm1.cert_secret"
bad "--cert /nonexistent/x.cert_secret: No such file or directory" certs "$C" --cert /nonexistent/x.cert_secret --server-cert "$TMP/keys/coordinator.cert"
bad "--worker /nonexistent/lockstep-worker: No such file or directory" docker "$D" --worker /nonexistent/lockstep-worker
bad "tools: 'no-such-tool-here' is neither beside the worker nor in PATH" docker "$D" --tools no-such-tool-here
bad "tools: 'no-such-tool-here' is neither beside the worker nor in PATH" vm "$V" --kernel "$K/boot/vmlinuz-$VER" --tools no-such-tool-here
bad "no kernel: kernel: /nonexistent/vmlinuz-1: No such file or directory" vm "$V" --kernel /nonexistent/vmlinuz-1
bad "/nonexistent/ctx: no directory /nonexistent to make it in" docker /nonexistent/ctx
bad "$TMP/keys/coordinator.cert is not a directory" vm "$TMP/keys/coordinator.cert"
bad "see 'lockstep image --help'" docker "$D" --colour
mkdir "$TMP/mine" && echo "precious" >"$TMP/mine/notes"
bad "$TMP/mine is not empty and holds no context of lockstep image docker" docker "$TMP/mine"
expect_eq "$(cat "$TMP/mine/notes")" precious "a directory that is not a context, after lockstep image docker"
mv "$K/lib/modules/$VER/kernel/drivers/net/virtio_net.ko" "$TMP/"
bad "modules for $VER missing: $K/lib/modules/$VER/kernel/drivers/net/virtio_net.ko" vm "$V" --kernel "$K/boot/vmlinuz-$VER"
expect_eq "$(cd "$TMP" && find ctx vm certs -type f -exec md5sum {} + | sort)" "$SUM" "files after the bad invocations"
"$LOCKSTEP" image --help | grep -q '^usage: lockstep image docker DIR' || fail "lockstep image --help"

pass "lockstep image: docker context, VM kernel and initramfs (cpio newc), certificates cpio; unchanged when nothing changed; bad input named"
